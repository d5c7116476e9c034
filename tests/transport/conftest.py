"""Transports connected to the session's broker of each kind (pulsar-lite, genuine Pulsar)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.brokers import TestBroker
from workq_pulsar import PulsarTransport

TransportFactory = Callable[..., PulsarTransport]


@pytest.fixture
def make_transport(broker: TestBroker, tmp_path) -> Iterator[TransportFactory]:
    """Build transports on the session broker (or another URL); all closed after the test."""
    made: list[PulsarTransport] = []

    def make(url: str | None = None, **overrides: Any) -> PulsarTransport:
        settings = broker.settings(**overrides, **({"service_url": url} if url else {}))
        transport = PulsarTransport(settings, tmp_path)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


@pytest.fixture
def job_type() -> str:
    """A job type no other test uses, so tests sharing the broker do not interfere."""
    return f"T{uuid.uuid4().hex[:10]}"
