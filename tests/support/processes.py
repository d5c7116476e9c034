"""Process checks the tests share."""

from __future__ import annotations

from pathlib import Path


def alive(pid: int) -> bool:
    """Whether this process exists and has not exited (a zombie, not yet reaped, has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
