"""A real pulsar-lite broker for the transport tests, and transports connected to it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from workq_pulsar import PulsarSettings, PulsarTransport
from workq_pulsar.broker_process import BrokerProcess

TransportFactory = Callable[..., PulsarTransport]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """One broker for the session, on a free port (other sessions run concurrently)."""
    process = BrokerProcess(tmp_path_factory.mktemp("pulsar-lite"))
    process.start()
    yield process
    process.stop()


def lite_settings(url: str, **overrides: Any) -> PulsarSettings:
    """Settings for a test against pulsar-lite: shim on, short timeouts."""
    values: dict[str, Any] = {
        "service_url": url,
        "lite_shim": True,
        "operation_timeout_s": 5,
        "send_timeout_ms": 5000,
        "nack_delay_ms": 100,
    }
    values.update(overrides)
    return PulsarSettings(**values)


@pytest.fixture
def make_transport(broker: BrokerProcess, tmp_path) -> Iterator[TransportFactory]:
    """Build transports on the session broker (or another URL); all closed after the test."""
    made: list[PulsarTransport] = []

    def make(url: str | None = None, **overrides: Any) -> PulsarTransport:
        transport = PulsarTransport(lite_settings(url or broker.url, **overrides), tmp_path)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


@pytest.fixture
def job_type() -> str:
    """A job type no other test uses, so tests sharing the broker do not interfere."""
    return f"T{uuid.uuid4().hex[:10]}"
