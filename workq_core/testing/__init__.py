"""A test kit for plugin authors: an in-memory transport, and a harness around the real executor."""

from workq_core.testing.dedup import InMemoryDedupStore
from workq_core.testing.harness import Harness, HarnessTimeout, ItemOutcome, JobRun
from workq_core.testing.plugin import IN_MEMORY, InMemoryPlugin
from workq_core.testing.transport import (
    DeadLetter,
    InMemoryBroker,
    InMemoryDelivery,
    InMemoryReceiver,
    InMemoryTransport,
)

__all__ = [
    "IN_MEMORY",
    "DeadLetter",
    "Harness",
    "HarnessTimeout",
    "InMemoryBroker",
    "InMemoryDedupStore",
    "InMemoryDelivery",
    "InMemoryPlugin",
    "InMemoryReceiver",
    "InMemoryTransport",
    "ItemOutcome",
    "JobRun",
]
