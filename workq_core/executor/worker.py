"""A worker: threads that receive deliveries and hand them to the item handler."""

from __future__ import annotations

import logging
import threading
import time

from workq_core.executor.handler import ItemHandler
from workq_core.types import Receiver

logger = logging.getLogger(__name__)

RECEIVE_TIMEOUT_S = 0.5


class Worker:
    """``threads`` loops over one receiver; stops taking work when asked, then drains.

    Several threads share one receiver so I/O-bound handlers overlap; the
    receiver's small queue keeps a stalled worker from hoarding messages.
    """

    def __init__(self, receiver: Receiver, handler: ItemHandler, threads: int) -> None:
        self.receiver = receiver
        self.handler = handler
        self.threads = threads
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Worker:
        for n in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"workq-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                delivery = self.receiver.receive(RECEIVE_TIMEOUT_S)
            except Exception:
                if self.stopping.is_set():
                    return
                logger.warning("receive failed; retrying", exc_info=True)
                time.sleep(RECEIVE_TIMEOUT_S)
                continue
            if delivery is None:
                continue
            try:
                self.handler.handle(self.receiver, delivery)
            except Exception:
                logger.error("item handling failed; message released", exc_info=True)
                self._nack_quietly(delivery)

    def _nack_quietly(self, delivery: object) -> None:
        try:
            self.receiver.nack(delivery)  # type: ignore[arg-type]
        except Exception:
            logger.warning("could not release message", exc_info=True)

    def stop(self, grace_s: float) -> None:
        """Stop receiving; wait up to ``grace_s`` for running items, then release the rest."""
        self.stopping.set()
        deadline = time.monotonic() + grace_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        released = self.handler.release_in_flight()
        if released:
            logger.warning(
                "released items still running after the grace period", extra={"count": released}
            )
