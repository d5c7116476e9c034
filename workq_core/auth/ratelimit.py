"""Sliding-window counters of failed logins, per email and per client address."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from workq_core.errors import RateLimited

MAX_TRACKED_KEYS = 100_000


class LoginLimiter:
    """Allows ``max_attempts`` failures per key within ``window_s``.

    An attempt is counted before the password is checked (so parallel or
    aliased attempts cannot overtake the count) and given back when it
    succeeds. Per process: several auth replicas each keep their own count.
    """

    def __init__(
        self, max_attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_attempts = max_attempts
        self.window_s = window_s
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, keys: Sequence[str]) -> None:
        """Count one attempt against every key, or raise RateLimited counting none."""
        with self._lock:
            now = self._clock()
            windows = [self._window(key, now) for key in keys]
            if any(len(w) >= self.max_attempts for w in windows):
                raise RateLimited("Too many login attempts; try again later.")
            for window in windows:
                window.append(now)

    def succeeded(self, keys: Sequence[str]) -> None:
        """Give back the attempt a successful login counted."""
        with self._lock:
            for key in keys:
                window = self._hits.get(key)
                if window:
                    window.pop()

    def _window(self, key: str, now: float) -> deque[float]:
        window = self._hits.get(key)
        if window is None:
            window = self._hits[key] = deque()
            while len(self._hits) > MAX_TRACKED_KEYS:
                self._hits.popitem(last=False)
        self._hits.move_to_end(key)
        while window and window[0] <= now - self.window_s:
            window.popleft()
        return window
