"""Waiting for the signal that ends a service command."""

from __future__ import annotations

import signal
import threading


class StopSignal:
    """SIGTERM and SIGINT, caught from the moment this is made (in the main thread).

    Made before a service starts, so a signal that arrives while it is still
    starting is remembered and stops it in order once it is up, instead of
    the default action killing it mid-start with work already claimed.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._event.set())

    def wait(self) -> None:
        """Block until the signal came (at once if it already did)."""
        while not self._event.wait(1.0):
            pass
