"""The auth service's "yes", remembered briefly, so a request costs no gRPC round trip."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

U = TypeVar("U")

MAX_ENTRIES = 10_000


class AuthCache(Generic[U]):
    """Wraps ``authenticate(token) -> user``; accepted tokens are remembered for ``ttl_s``.

    The auth service stays the authority: only its acceptances are kept,
    each for at most ``ttl_s`` seconds from the moment it answered, so a token
    revoked by logout or a password change is still accepted here for at
    most ``ttl_s`` seconds (``0`` turns caching off). Refusals and failures
    (AuthError, Unavailable) are never kept: the next request asks again.
    Tokens are kept as SHA-256 digests, at most ``max_entries`` of them, the
    least recently used evicted first. Thread-safe.
    """

    def __init__(
        self,
        authenticate: Callable[[str], U],
        ttl_s: float,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._authenticate = authenticate
        self.ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, U]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, token: str) -> U:
        if self.ttl_s <= 0:
            return self._authenticate(token)
        key = hashlib.sha256(token.encode()).digest()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
        user = self._authenticate(token)  # raises for a token it refuses
        with self._lock:
            self._entries[key] = (now + self.ttl_s, user)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return user
