"""Deliveries and the receiver that hands them out and settles them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulsar

from workq_core import DEAD_LETTER_KEY, Delivery, OutgoingMessage, TransportError
from workq_pulsar import dead_letters
from workq_pulsar.producers import ProducerCache, publish
from workq_pulsar.topics import TopicNames

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class PulsarDelivery:
    """One received message; ``message`` is what ack and nack need.

    Not frozen only because ``workq_core.Delivery`` declares plain (settable)
    attributes, which a frozen dataclass does not satisfy for type checkers.
    """

    job_type: str
    payload: bytes
    properties: Mapping[str, str]
    redelivery_count: int
    topic: str
    message: pulsar.Message = field(repr=False, compare=False)


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
    ) -> None:
        self._consumer = consumer
        self._names = names
        self._producers = producers
        self._send_timeout_ms = send_timeout_ms
        self._open_reader = open_reader

    def receive(self, timeout_s: float) -> PulsarDelivery | None:
        try:
            message = self._consumer.receive(max(0, int(timeout_s * 1000)))  # 0: only if queued
        except pulsar.Timeout:
            return None
        except pulsar.PulsarException as exc:
            raise TransportError(f"receive failed: {exc}") from exc
        topic = message.topic_name()
        return PulsarDelivery(
            job_type=self._names.job_type(topic),
            payload=message.data(),
            properties=dict(message.properties()),
            redelivery_count=message.redelivery_count(),
            topic=topic,
            message=message,
        )

    def ack(self, delivery: Delivery) -> None:
        try:
            self._consumer.acknowledge(_message(delivery))
        except pulsar.PulsarException as exc:
            raise TransportError(f"ack failed: {exc}") from exc

    def nack(self, delivery: Delivery) -> None:
        try:
            self._consumer.negative_acknowledge(_message(delivery))
        except pulsar.PulsarException as exc:
            raise TransportError(f"nack failed: {exc}") from exc

    def dead_letter(
        self, delivery: Delivery, properties: Mapping[str, str], *, maybe_sent: bool = False
    ) -> None:
        """Publish the payload with its properties plus ``properties`` to the DLQ, confirmed.

        The delivery stays unsettled: the caller acks it once the dead letter
        is recorded. With ``maybe_sent``, nothing is published if the DLQ
        already holds a message with the same dead-letter key.
        """
        message = _message(delivery)
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

    def close(self) -> None:
        """Idempotent: the transport closes every receiver it made, even closed ones."""
        try:
            self._consumer.close()
        except (pulsar.PulsarException, ValueError):  # ValueError: pulsar-client's second close
            logger.debug("consumer already closed")


def _message(delivery: Delivery) -> pulsar.Message:
    if not isinstance(delivery, PulsarDelivery):
        raise TransportError(f"not a delivery of the pulsar transport: {delivery!r}")
    return delivery.message
