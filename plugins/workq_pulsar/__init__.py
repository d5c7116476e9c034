"""The ``pulsar`` transport: job messages over Apache Pulsar or an embedded pulsar-lite."""

from __future__ import annotations

from typing import Any

from workq_core import ComponentContext, Registry, hookimpl
from workq_pulsar.embedded import EmbeddedBroker
from workq_pulsar.settings import PulsarSettings
from workq_pulsar.transport import PulsarTransport

__all__ = ["EmbeddedBroker", "PulsarSettings", "PulsarTransport", "create_transport"]


def create_transport(ctx: ComponentContext) -> PulsarTransport:
    """The transport factory: settings from ``[pulsar]``, broker data under core.data_dir."""
    return PulsarTransport(ctx.settings.section("pulsar"), ctx.settings.data_dir)


@hookimpl
def workq_register_config_sections(registry: Registry[type]) -> None:
    registry.add("pulsar", PulsarSettings)


@hookimpl
def workq_register_transports(registry: Registry[Any]) -> None:
    registry.add("pulsar", create_transport)
