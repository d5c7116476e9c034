"""The ``in-memory`` dedup store: completed keys remembered in this process until they expire."""

from __future__ import annotations

import threading
import time


class InMemoryDedupStore:
    """Keys marked less than their ``ttl_s`` ago, in this process only.

    For a harness loaded without entry points, where the shipped ``memory``
    store (a plugin like any other) is not there; unbounded, as a test is short.
    """

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, key: str) -> bool:
        with self._lock:
            return self._expiry.get(key, 0.0) > time.monotonic()

    def mark(self, key: str, ttl_s: float) -> None:
        with self._lock:
            self._expiry[key] = time.monotonic() + ttl_s

    def close(self) -> None:
        with self._lock:
            self._expiry.clear()
