"""Process checks the tests share."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether a process with this id exists (a killed one is gone once it was reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
