"""Deliveries and the receiver that hands them out and settles them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulsar

from workq_core import DEAD_LETTER_KEY, Delivery, OutgoingMessage, TransportError
from workq_pulsar import dead_letters
from workq_pulsar.lite_shim import StallGuard
from workq_pulsar.producers import ProducerCache, publish
from workq_pulsar.topics import TopicNames

logger = logging.getLogger(__name__)

# longer than any receive's wait (the executor's is 0.5 s), so no thread still waits on it
RETIRE_GRACE_S = 5.0


@dataclass(eq=False)
class PulsarDelivery:
    """One received message; ``message`` and its ``consumer`` are what ack and nack need.

    Not frozen only because ``workq_core.Delivery`` declares plain (settable)
    attributes, which a frozen dataclass does not satisfy for type checkers.
    """

    job_type: str
    payload: bytes
    properties: Mapping[str, str]
    redelivery_count: int
    topic: str
    message: pulsar.Message = field(repr=False, compare=False)
    consumer: pulsar.Consumer = field(repr=False, compare=False)


class PulsarReceiver:
    """A Shared-subscription consumer on several topics.

    ``receive`` may be called from many threads of one process at once: the
    C++ consumer behind it takes messages from its queue under a lock and
    releases the GIL while it waits, so each message goes to exactly one
    caller (tests/transport check this with eight threads).
    """

    def __init__(
        self,
        consumer: pulsar.Consumer,
        names: TopicNames,
        producers: ProducerCache,
        send_timeout_ms: int,
        open_reader: dead_letters.OpenReader,
        stall: tuple[StallGuard, Callable[[], pulsar.Consumer]] | None = None,
    ) -> None:
        """``stall``: pulsar-lite's guard and how to subscribe a replacement consumer."""
        self._consumer = consumer
        self._names = names
        self._producers = producers
        self._send_timeout_ms = send_timeout_ms
        self._open_reader = open_reader
        self._guard: StallGuard | None = stall[0] if stall else None
        self._subscribe_again: Callable[[], pulsar.Consumer] | None = stall[1] if stall else None
        # replaced after a stall, not yet closed: (consumer, when it was replaced)
        self._retired: list[tuple[pulsar.Consumer, float]] = []
        self._lock = threading.Lock()

    def receive(self, timeout_s: float) -> PulsarDelivery | None:
        if self._retired:
            retired = self._from_retired()
            if retired is not None:
                return retired
        consumer = self._consumer
        try:
            message = consumer.receive(max(0, int(timeout_s * 1000)))  # 0: only if queued
        except pulsar.Timeout:
            if self._guard is not None and self._guard.should_resubscribe():
                self._resubscribe()
            return None
        except pulsar.PulsarException as exc:
            raise TransportError(f"receive failed: {exc}") from exc
        return self._delivery(message, consumer)

    def _delivery(self, message: pulsar.Message, consumer: pulsar.Consumer) -> PulsarDelivery:
        topic = message.topic_name()
        delivery = PulsarDelivery(
            job_type=self._names.job_type(topic),
            payload=message.data(),
            properties=dict(message.properties()),
            redelivery_count=message.redelivery_count(),
            topic=topic,
            message=message,
            consumer=consumer,
        )
        if self._guard is not None:
            self._guard.delivered(delivery)
        return delivery

    def ack(self, delivery: Delivery) -> None:
        own = self._settling(delivery)
        try:
            own.consumer.acknowledge(own.message)
        except pulsar.PulsarException as exc:
            raise TransportError(f"ack failed: {exc}") from exc

    def nack(self, delivery: Delivery) -> None:
        own = self._settling(delivery)
        try:
            own.consumer.negative_acknowledge(own.message)
        except pulsar.PulsarException as exc:
            raise TransportError(f"nack failed: {exc}") from exc

    def _settling(self, delivery: Delivery) -> PulsarDelivery:
        """Settled on the consumer that received it, even after a resubscribe."""
        own = _own(delivery)
        if self._guard is not None:
            self._guard.settled(own)
        return own

    def dead_letter(
        self, delivery: Delivery, properties: Mapping[str, str], *, maybe_sent: bool = False
    ) -> None:
        """Publish the payload with its properties plus ``properties`` to the DLQ, confirmed.

        The delivery stays unsettled: the caller acks it once the dead letter
        is recorded. With ``maybe_sent``, nothing is published if the DLQ
        already holds a message with the same dead-letter key.
        """
        message = _own(delivery).message
        dlq = self._names.dlq(self._names.job_type(message.topic_name()))
        key = properties.get(DEAD_LETTER_KEY)
        if maybe_sent and key and self._holds(dlq, key):
            logger.info("dead letter already published; not sent again", extra={"topic": dlq})
            return
        outgoing = OutgoingMessage(message.partition_key(), delivery.payload, delivery.properties)
        publish(
            self._producers.get(dlq),
            dlq,
            [outgoing],
            send_timeout_ms=self._send_timeout_ms,
            extra_properties=properties,
        )

    def _holds(self, dlq: str, key: str) -> bool:
        return dead_letters.holds(self._open_reader, dlq, key, self._send_timeout_ms)

    def _resubscribe(self) -> None:
        """Put a new consumer in place of the current one; the old one retires.

        A retired consumer stays open while the process holds a delivery of
        it (its ack must reach it), while it still hands out messages (a new
        subscription can set pulsar-lite dispatching to the old one again),
        and for at least ``RETIRE_GRACE_S``: a thread that was waiting on it
        when it was replaced may be just taking a message from it.
        """
        assert self._subscribe_again is not None
        try:
            fresh = self._subscribe_again()
        except TransportError:
            logger.warning("resubscribe after a stalled consumer failed", exc_info=True)
            return
        with self._lock:
            old, self._consumer = self._consumer, fresh
            self._retired.append((old, time.monotonic()))
        logger.warning(
            "pulsar-lite stopped dispatching to this consumer; subscribed a new one",
            extra={"subscription": old.subscription_name()},
        )

    def _from_retired(self) -> PulsarDelivery | None:
        """What a retired consumer still has queued; it is closed once empty and settled."""
        assert self._guard is not None
        with self._lock:  # no receive from a consumer another thread is closing
            for entry in list(self._retired):
                consumer, retired_at = entry
                try:
                    return self._delivery(consumer.receive(0), consumer)
                except pulsar.Timeout:
                    recent = time.monotonic() - retired_at < RETIRE_GRACE_S
                    if recent or any(d.consumer is consumer for d in self._guard.held()):
                        continue
                except pulsar.PulsarException:
                    logger.debug("retired consumer failed; closing it", exc_info=True)
                self._retired.remove(entry)
                _close(consumer)
        return None

    def close(self) -> None:
        """Idempotent: the transport closes every receiver it made, even closed ones."""
        with self._lock:
            consumers = [self._consumer, *(consumer for consumer, _ in self._retired)]
            self._retired = []
        for consumer in consumers:
            _close(consumer)


def _close(consumer: pulsar.Consumer) -> None:
    try:
        consumer.close()
    except (pulsar.PulsarException, ValueError):  # ValueError: pulsar-client's second close
        logger.debug("consumer already closed")


def _own(delivery: Delivery) -> PulsarDelivery:
    if not isinstance(delivery, PulsarDelivery):
        raise TransportError(f"not a delivery of the pulsar transport: {delivery!r}")
    return delivery
