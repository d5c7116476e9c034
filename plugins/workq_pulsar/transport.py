"""PulsarTransport: the Transport protocol on the official pulsar-client."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence

import pulsar

from workq_core import OutgoingMessage, Receiver, TransportError
from workq_pulsar.client import broker_addresses, open_client
from workq_pulsar.lite_shim import LiteShim, StallGuard
from workq_pulsar.producers import ProducerCache, publish
from workq_pulsar.receiver import PulsarReceiver
from workq_pulsar.settings import PulsarSettings
from workq_pulsar.topics import TopicNames

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 2.0


class PulsarTransport:
    """One topic per job type under ``persistent://tenant/namespace/``, one client per process.

    Every consumer uses the configured Shared subscription starting at the
    earliest message; ``<topic>-DLQ`` carries dead letters under a
    subscription of the same name, so they are kept until read.
    """

    def __init__(self, settings: PulsarSettings, data_dir: str | os.PathLike[str]) -> None:
        self.settings = settings
        self.names = TopicNames(settings.tenant, settings.namespace)
        self._handle = open_client(settings, data_dir)
        self.url = self._handle.url
        self._client = self._handle.client
        self._producers = ProducerCache(self._client, settings.send_timeout_ms)
        self._shim = (
            LiteShim(self._client, settings.tenant, settings.namespace)
            if settings.shim_enabled
            else None
        )
        self._receivers: list[PulsarReceiver] = []
        self._stall_guards: list[StallGuard] = []  # pulsar-lite only
        self._lock = threading.Lock()

    def declare(self, job_types: Sequence[str]) -> None:
        """Create the durable subscription of each topic and each DLQ (open, close a consumer)."""
        topics = self.names.topics(job_types) + self.names.topics(job_types, dlq=True)
        for topic in topics:
            self._subscribe([topic]).close()
        logger.info("declared pulsar topics", extra={"topics": topics})

    def publish(self, job_type: str, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        topic = self.names.topic(job_type)
        publish(
            self._producers.get(topic),
            topic,
            messages,
            send_timeout_ms=self.settings.send_timeout_ms,
        )
        for guard in self._stall_guards:
            if topic in guard.topics:
                guard.published()

    def check_ready(self) -> None:
        """The broker accepts TCP connections (``/readyz``); TransportError names it if not."""
        last: OSError | None = None
        for host, port in broker_addresses(self.url):
            try:
                with socket.create_connection((host, port), timeout=READY_TIMEOUT_S):
                    return
            except OSError as exc:
                last = exc
        raise TransportError(f"pulsar broker at {self.url} is not reachable: {last}")

    def subscribe(self, job_types: Sequence[str]) -> Receiver:
        return self._receiver(self.names.topics(job_types))

    def subscribe_dead_letters(self, job_types: Sequence[str]) -> Receiver:
        """A receiver on the DLQ topics, for inspecting dead letters (not used by the core)."""
        return self._receiver(self.names.topics(job_types, dlq=True))

    def close(self) -> None:
        with self._lock:
            receivers, self._receivers = self._receivers, []
        for receiver in receivers:
            receiver.close()
        self._producers.close()
        self._handle.close()

    def _receiver(self, topics: list[str]) -> PulsarReceiver:
        receiver = PulsarReceiver(
            self._subscribe(topics),
            self.names,
            self._producers,
            self.settings.send_timeout_ms,
            self._open_reader,
            stall=self._stall_guard(topics),
        )
        with self._lock:
            self._receivers.append(receiver)
        return receiver

    def _stall_guard(
        self, topics: list[str]
    ) -> tuple[StallGuard, Callable[[], pulsar.Consumer]] | None:
        """On pulsar-lite: a guard told of this process's publishes to ``topics``."""
        if self._shim is None:
            return None
        guard = StallGuard(topics)
        with self._lock:
            self._stall_guards.append(guard)
        return guard, lambda: self._subscribe(topics)

    def _open_reader(self, topic: str) -> pulsar.Reader:
        """A reader of ``topic`` from its first message (ids shimmed on pulsar-lite)."""
        make: Callable[[], pulsar.Reader] = lambda: self._client.create_reader(  # noqa: E731
            topic, pulsar.MessageId.earliest
        )
        return self._shim.subscribe(make) if self._shim else make()

    def _subscribe(self, topics: list[str]) -> pulsar.Consumer:
        make: Callable[[], pulsar.Consumer] = lambda: self._client.subscribe(  # noqa: E731
            topics,
            self.settings.subscription,
            consumer_type=pulsar.ConsumerType.Shared,
            initial_position=pulsar.InitialPosition.Earliest,
            receiver_queue_size=self.settings.receiver_queue_size,
            negative_ack_redelivery_delay_ms=self.settings.nack_delay_ms,
        )
        try:
            return self._shim.subscribe(make) if self._shim else make()
        except pulsar.Timeout as exc:
            hint = "" if self._shim else " (on pulsar-lite, set pulsar.lite_shim = true)"
            raise TransportError(f"subscribe to {topics} timed out{hint}") from exc
        except pulsar.PulsarException as exc:
            raise TransportError(f"subscribe to {topics} failed: {exc}") from exc
