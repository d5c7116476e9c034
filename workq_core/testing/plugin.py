"""The kit's plugin: the ``in-memory`` transport and dedup store, chosen by configuration."""

from __future__ import annotations

from typing import Any

from workq_core.hookspecs import hookimpl
from workq_core.registry import Registry
from workq_core.testing.dedup import InMemoryDedupStore
from workq_core.testing.transport import InMemoryBroker, InMemoryTransport
from workq_core.types import ComponentContext

IN_MEMORY = "in-memory"


class InMemoryPlugin:
    """Registers ``in-memory``: a transport (all it makes share ``broker``) and a dedup store.

    An ordinary plugin object, so services get them by configuration
    (``transport.name = "in-memory"``, ``executor.dedup_store = "in-memory"``)
    exactly as they get ``pulsar`` and ``memory``. Not an installed entry
    point: pass it to ``bootstrap(extra_plugins=...)``, as
    :class:`workq_core.testing.Harness` does.
    """

    def __init__(self, broker: InMemoryBroker | None = None) -> None:
        self.broker = broker or InMemoryBroker()

    def create_transport(self, ctx: ComponentContext) -> InMemoryTransport:
        return InMemoryTransport(self.broker)

    @hookimpl
    def workq_register_transports(self, registry: Registry[Any]) -> None:
        registry.add(IN_MEMORY, self.create_transport)

    @hookimpl
    def workq_register_dedup_stores(self, registry: Registry[Any]) -> None:
        registry.add(IN_MEMORY, lambda ctx: InMemoryDedupStore())
