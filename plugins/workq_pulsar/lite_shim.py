"""pulsar-lite only: consumer ids no other process uses, and a guard against stalled consumers.

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
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pulsar

logger = logging.getLogger(__name__)

SLOTS = 32
IDS_PER_SLOT = 8
ATTEMPTS = 3
# a healthy broker hands a message to an idle consumer within milliseconds
STALL_S = 5.0
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


class StallGuard:
    """pulsar-lite only: notice when the broker stops dispatching to a live consumer.

    Why: after consumers of a Shared subscription are SIGKILLed, pulsar-lite
    can stop handing messages to a surviving consumer for good, though it
    holds messages for the subscription and still dispatches them to a
    newly subscribed consumer (seen in the heavy form of
    ``test_executor_killed_between_commit_and_ack``: the survivor ran dry for
    minutes while its relay re-published; a second consumer subscribing
    brought the messages out at once). Apache Pulsar does not do this, so
    the guard exists only where the consumer-id shim is on.

    How: the transport reports each publish to the receiver's topics, the
    receiver each delivery and each settlement. When a receive times out,
    the process holds no delivery, and a publish of this process has waited
    more than ``stall_s`` with no delivery since, a healthy broker would have
    delivered by now: the receiver subscribes a new consumer in place of
    this one; the next swap needs a publish after it (while stalled, the
    relay's re-publishing of undelivered items provides one). A consumer
    that is idle because another process took the messages costs one
    needless swap per ``stall_s`` at most, and only while this process keeps
    publishing.
    """

    def __init__(self, topics: Iterable[str], stall_s: float | None = None) -> None:
        self.topics = frozenset(topics)
        self._stall_s = STALL_S if stall_s is None else stall_s
        self._held: set[object] = set()
        self._waiting_since: float | None = None  # first publish not followed by a delivery
        self._lock = threading.Lock()

    def published(self) -> None:
        with self._lock:
            if self._waiting_since is None:
                self._waiting_since = time.monotonic()

    def delivered(self, delivery: object) -> None:
        with self._lock:
            self._held.add(delivery)
            self._waiting_since = None

    def settled(self, delivery: object) -> None:
        with self._lock:
            self._held.discard(delivery)

    def held(self) -> list[Any]:
        """The deliveries the process holds now (received, not yet settled)."""
        with self._lock:
            return list(self._held)

    def should_resubscribe(self) -> bool:
        """After a receive timed out: whether to swap the consumer (then waits for a publish)."""
        with self._lock:
            since = self._waiting_since
            stalled = (
                not self._held and since is not None and time.monotonic() - since > self._stall_s
            )
            if stalled:
                self._waiting_since = None
            return stalled
