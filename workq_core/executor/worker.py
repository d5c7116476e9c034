"""A worker: threads that receive batches of deliveries and hand them to the item handler."""

from __future__ import annotations

import logging
import threading
import time

from workq_core.db.sql import now_ms
from workq_core.executor.handler import ItemHandler
from workq_core.telemetry import metrics
from workq_core.types import Delivery, Receiver

logger = logging.getLogger(__name__)

RECEIVE_TIMEOUT_S = 0.5
TOP_UP_TIMEOUT_S = 0.0  # take what is already prefetched; never wait to fill a batch
BATCH_WALL_S = 0.25


class BatchSizer:
    """How many items one thread takes at once: many fast ones, or one slow one.

    A batch's items are all claimed (their leases started) before the first
    runs, so a batch must finish well inside the lease; aiming at
    ``BATCH_WALL_S`` of work also bounds how long acknowledgements wait.
    Uses a moving average of the time per item.
    """

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self.per_item_s = BATCH_WALL_S  # start cautious: one item, until measured

    def size(self) -> int:
        return max(1, min(self.max_batch, int(BATCH_WALL_S / max(self.per_item_s, 1e-5))))

    def observe(self, seconds: float, items: int) -> None:
        if items:
            self.per_item_s = 0.8 * self.per_item_s + 0.2 * (seconds / items)


class Worker:
    """``threads`` loops over one receiver; stops taking work when asked, then drains.

    Several threads share one receiver so I/O-bound handlers overlap; the
    receiver's small queue keeps a stalled worker from hoarding messages.
    Each thread keeps its own database connection open for its lifetime.
    """

    def __init__(
        self, receiver: Receiver, handler: ItemHandler, threads: int, max_batch: int = 32
    ) -> None:
        self.receiver = receiver
        self.handler = handler
        self.threads = threads
        self.sizer = BatchSizer(max_batch)
        self.ran_dry_ms = 0  # never yet: a worker that just started says nothing about the broker
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Worker:
        metrics.EXECUTOR_THREADS.labels("idle").inc(self.threads)
        for n in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"workq-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _loop(self) -> None:
        try:
            while not self.stopping.is_set():
                batch = self._receive_batch()
                if batch:
                    self._handle(batch)
        finally:
            self.handler.db.close()

    def _receive_batch(self) -> list[Delivery]:
        try:
            first = self.receiver.receive(RECEIVE_TIMEOUT_S)
        except Exception:
            if not self.stopping.is_set():
                logger.warning("receive failed; retrying", exc_info=True)
                time.sleep(RECEIVE_TIMEOUT_S)
            return []
        if first is None:
            # A free thread waited and the broker had nothing to hand over.
            self.ran_dry_ms = now_ms()
            return []
        batch = [first]
        wanted = self.sizer.size()
        while len(batch) < wanted and not self.stopping.is_set():
            more = self.receiver.receive(TOP_UP_TIMEOUT_S)
            if more is None:
                break
            batch.append(more)
        return batch

    def _handle(self, batch: list[Delivery]) -> None:
        started = time.perf_counter()
        _move_thread("idle", "busy")
        try:
            self.handler.handle(self.receiver, batch)
        except Exception:
            logger.error("item handling failed; messages released", exc_info=True)
            for delivery in batch:
                self._nack_quietly(delivery)
        finally:
            _move_thread("busy", "idle")
        self.sizer.observe(time.perf_counter() - started, len(batch))

    def _nack_quietly(self, delivery: Delivery) -> None:
        try:
            self.receiver.nack(delivery)
        except Exception:
            logger.debug("could not release message (already settled?)", exc_info=True)

    def stop(self, grace_s: float) -> None:
        """Stop receiving; wait up to ``grace_s`` for running items, then release the rest."""
        self.stopping.set()
        deadline = time.monotonic() + grace_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        metrics.EXECUTOR_THREADS.labels("idle").dec(self.threads)
        self.handler.progress.stop()
        released = self.handler.release_in_flight()
        if released:
            logger.warning(
                "released items still running after the grace period", extra={"count": released}
            )


def _move_thread(source: str, target: str) -> None:
    metrics.EXECUTOR_THREADS.labels(source).dec()
    metrics.EXECUTOR_THREADS.labels(target).inc()
