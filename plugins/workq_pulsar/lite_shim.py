"""pulsar-lite only: give this process's consumers ids no other process uses.

Why: pulsar-lite keys a subscription's consumers by the consumer id the
client sends, and every pulsar-client numbers its consumers from 0 per
client. A second process subscribing to the same Shared subscription asks
for "consumer 0" again; pulsar-lite refuses ("Consumer 0 already exists"),
the client keeps retrying, and ``subscribe`` times out. Apache Pulsar keys
consumers per connection, so this shim is never needed there.

How: the client's id counter cannot be set, but every consumer or reader it
creates takes the next id. Before its first real consumer, a process opens
and closes throwaway readers on a private non-persistent topic (nothing is
stored) to advance the counter to ``slot * IDS_PER_SLOT`` with
``slot = pid % SLOTS``. Processes started together get consecutive pids and
so disjoint id ranges, as long as each keeps fewer than ``IDS_PER_SLOT``
consumers of a topic open at once. Collisions (pids equal modulo ``SLOTS``)
are not impossible, so :func:`subscribe` retries a timed-out subscribe after
skipping a random number of further ids: the refused attempt costs one
operation timeout, not the process. Readers are opened from a few threads
at once; a full advance (the worst slot) takes a few hundred milliseconds.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pulsar

logger = logging.getLogger(__name__)

SLOTS = 32
IDS_PER_SLOT = 8
ATTEMPTS = 3
_THREADS = 16
T = TypeVar("T")


class LiteShim:
    """Advances one pulsar.Client's consumer ids once, before its first subscribe."""

    def __init__(self, client: pulsar.Client, tenant: str, namespace: str) -> None:
        self._client = client
        self._topic = f"non-persistent://{tenant}/{namespace}/workq-lite-shim-{os.getpid()}"
        self._lock = threading.Lock()
        self._done = False

    def prepare(self) -> None:
        """Skip this process's slot of ids (once per client)."""
        with self._lock:
            if not self._done:
                self.skip((os.getpid() % SLOTS) * IDS_PER_SLOT)
                self._done = True

    def skip(self, count: int) -> None:
        """Use up ``count`` consumer ids by opening and closing readers."""
        started = time.monotonic()
        with ThreadPoolExecutor(min(_THREADS, max(count, 1))) as pool:
            list(pool.map(lambda _: self._throwaway(), range(count)))
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        logger.debug(
            "lite shim skipped consumer ids", extra={"ids": count, "duration_ms": elapsed_ms}
        )

    def _throwaway(self) -> None:
        reader = self._client.create_reader(self._topic, pulsar.MessageId.latest)
        reader.close()

    def subscribe(self, make: Callable[[], T]) -> T:
        """``make()`` (a subscribe), after :meth:`prepare`, retried past id collisions."""
        self.prepare()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return make()
            except pulsar.Timeout:
                if attempt == ATTEMPTS:
                    raise
                logger.warning(
                    "subscribe timed out; skipping consumer ids and retrying",
                    extra={"attempt": attempt},
                )
                self.skip(random.randint(1, SLOTS * IDS_PER_SLOT))  # noqa: S311 - not security
        raise AssertionError("unreachable")
