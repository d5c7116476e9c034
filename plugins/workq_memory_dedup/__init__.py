"""The ``memory`` dedup store: per-process, bounded, with expiry."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workq_core import ComponentContext, Registry, hookimpl, setting

DEFAULT_MAX_KEYS = 1_000_000


@dataclass(frozen=True)
class MemoryDedupSettings:
    """Section ``[memory_dedup]``."""

    max_keys: int = setting(DEFAULT_MAX_KEYS, "most keys kept before the oldest are evicted", min=1)


class MemoryDedupStore:
    """Remembers completed keys in this process only, oldest evicted first.

    Dedups redeliveries that reach the same executor process. Across processes
    or restarts it remembers nothing: use a shared store (``sql``) for that.
    Memory is bounded by ``max_keys``: past it the least recently marked key is
    dropped, which can only cause a rerun, never a lost item.
    """

    def __init__(
        self, max_keys: int = DEFAULT_MAX_KEYS, clock: Callable[[], float] = time.monotonic
    ):
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key: str) -> bool:
        with self._lock:
            expires = self._expiry.get(key)
            if expires is None:
                return False
            if expires <= self._clock():
                del self._expiry[key]
                return False
            return True

    def mark(self, key: str, ttl_s: float) -> None:
        with self._lock:
            self._expiry[key] = self._clock() + ttl_s
            self._expiry.move_to_end(key)
            while len(self._expiry) > self.max_keys:
                self._expiry.popitem(last=False)
            self._drop_expired_head()

    def _drop_expired_head(self) -> None:
        """Drop expired keys at the old end, so idle memory shrinks without a sweeper."""
        now = self._clock()
        while self._expiry:
            oldest_key, expires = next(iter(self._expiry.items()))
            if expires > now:
                return
            del self._expiry[oldest_key]

    def close(self) -> None:
        with self._lock:
            self._expiry.clear()

    def __len__(self) -> int:
        return len(self._expiry)


def create_store(ctx: ComponentContext) -> MemoryDedupStore:
    return MemoryDedupStore(max_keys=ctx.settings.section("memory_dedup").max_keys)


@hookimpl
def workq_register_config_sections(registry: Registry[type]) -> None:
    registry.add("memory_dedup", MemoryDedupSettings)


@hookimpl
def workq_register_dedup_stores(registry: Registry[Any]) -> None:
    registry.add("memory", create_store)
