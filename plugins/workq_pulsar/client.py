"""Build the pulsar.Client: resolve ``embedded``, route its logs, set its timeouts."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
from dataclasses import dataclass

import pulsar

from workq_pulsar.embedded import EmbeddedBroker
from workq_pulsar.settings import PulsarSettings

# pulsar-client's C++ core logs at INFO to stdout unless given a logger; its
# level is read once, so the logger gets an explicit WARNING level.
CLIENT_LOGGER = "workq_pulsar.pulsar_client"
DEFAULT_PORT = 6650


@dataclass
class ClientHandle:
    """The client plus the embedded broker it may have started (stopped with it)."""

    client: pulsar.Client
    url: str
    broker: EmbeddedBroker | None

    def close(self) -> None:
        atexit.unregister(self.close)
        with contextlib.suppress(pulsar.PulsarException):
            self.client.close()
        if self.broker is not None:
            self.broker.stop()


def client_logger() -> logging.Logger:
    log = logging.getLogger(CLIENT_LOGGER)
    if log.level == logging.NOTSET:
        log.setLevel(logging.WARNING)
    return log


def broker_addresses(url: str) -> list[tuple[str, int]]:
    """``(host, port)`` of each broker in ``pulsar://h1:6650,h2:6650`` (port 6650 by default)."""
    _scheme, _sep, rest = url.partition("://")
    addresses = []
    for part in rest.split("/")[0].split(","):
        host, _colon, port = part.strip().rpartition(":")
        if not host:
            host, port = port, ""
        addresses.append((host.strip("[]"), int(port) if port.isdigit() else DEFAULT_PORT))
    return addresses


def open_client(settings: PulsarSettings, data_dir: str | os.PathLike[str]) -> ClientHandle:
    """Connect to ``service_url``, first starting or attaching to the embedded broker."""
    broker = None
    url = settings.service_url.strip()
    if settings.embedded:
        broker = EmbeddedBroker(data_dir)
        url = broker.start()
    client = pulsar.Client(
        url,
        operation_timeout_seconds=settings.operation_timeout_s,
        logger=client_logger(),
    )
    handle = ClientHandle(client, url, broker)
    # A client still open when the interpreter finalises logs its teardown
    # through a console logger at DEBUG; closing it at exit avoids that spew.
    atexit.register(handle.close)
    return handle
