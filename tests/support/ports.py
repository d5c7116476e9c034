"""Loopback ports for the servers tests start on a port of their choosing.

Tests choose ports, not port 0, where a service must come back on the same
address after a kill (its clients keep their URLs) or where a command takes a
port on its command line. A port free a moment ago can be taken before the
service binds it, and with pytest-xdist running test processes side by side
another process's server took one often enough to fail runs: the harness saw
the port answer and its client talked to someone else's service. So each test
process picks from a range of its own, below the kernel's ephemeral range
(32768 and up by default: where port-0 servers and client sockets get theirs),
and never hands out the same port twice.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

FIRST_PORT = 12_000
SLICE = 2_500  # ports per test process; 8 slices end at 31,999
SLICES = 8


def _slice_start() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw3" under xdist
    index = int(worker.removeprefix("gw") or 0) if worker.startswith("gw") else 0
    return FIRST_PORT + (index % SLICES) * SLICE


_START = _slice_start()
_OFFSETS = itertools.count(random.randrange(SLICE))


def free_port() -> int:
    """A loopback port of this test process's range that nothing is bound to now."""
    for _ in range(SLICE):
        port = _START + next(_OFFSETS) % SLICE
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in 127.0.0.1:{_START}-{_START + SLICE - 1}")
