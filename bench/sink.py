"""Harness side of the sink: tail the workers' files and count completions.

Workers append whole lines (see :mod:`bench.workload`); this reader keeps an
offset per file and parses only new bytes, so polling stays cheap however
many jobs are done. A job seen twice (an at-least-once redelivery) counts
once, with its first record kept, and the duplicate is counted separately.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Record:
    job_id: str
    t_start: float
    t_done: float
    pid: int


class PhaseTimeout(RuntimeError):
    """Jobs did not all complete before the deadline."""


class SinkReader:
    """Incrementally reads every ``*.sink`` file in one directory."""

    def __init__(self, sink_dir: Path) -> None:
        self.sink_dir = sink_dir
        self.records: dict[str, Record] = {}
        self.duplicates = 0
        self._offsets: dict[str, int] = {}
        self._partial: dict[str, bytes] = {}

    def poll(self) -> None:
        """Read whatever the workers appended since the last poll."""
        for entry in os.scandir(self.sink_dir):
            if entry.name.endswith(".sink"):
                self._read(entry.path)

    def _read(self, path: str) -> None:
        with open(path, "rb") as f:
            f.seek(self._offsets.get(path, 0))
            data = self._partial.pop(path, b"") + f.read()
            self._offsets[path] = f.tell()
        *lines, rest = data.split(b"\n")
        if rest:
            self._partial[path] = rest
        for line in lines:
            job_id, t_start, t_done, pid = line.decode().split("\t")
            if job_id in self.records:
                self.duplicates += 1
            else:
                self.records[job_id] = Record(job_id, float(t_start), float(t_done), int(pid))

    def wait_for(
        self,
        ids: Sequence[str],
        timeout: float,
        poll: float = 0.05,
        alive_check: Callable[[], None] | None = None,
    ) -> list[Record]:
        """Block until every id in ``ids`` has a record; raise :class:`PhaseTimeout` if not."""
        pending = set(ids)
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            pending = {i for i in pending if i not in self.records}
            if not pending:
                break
            if time.monotonic() > deadline:
                raise PhaseTimeout(f"{len(pending)} jobs not done after {timeout:.0f}s")
            if alive_check is not None:
                alive_check()
            time.sleep(poll)
        return [self.records[i] for i in ids]
