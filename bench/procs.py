"""Worker subprocesses: spawn, stop cleanly or fail loudly, and sample their memory.

Memory comes straight from ``/proc`` (the benchmark is Linux-only anyway:
it relies on a system-wide monotonic clock), so the harness needs no
third-party package to measure it. RSS counts pages shared between a parent
and its forked children once per process, as ``ps`` does; that overstates
forking pools (Celery prefork, Dramatiq, RQ's work horse) a little, and is the
same rule for everyone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
REPO_ROOT = Path(__file__).resolve().parents[1]


class WorkerStopError(RuntimeError):
    """Worker processes did not stop within the timeout and were killed."""


class ProcessGroup:
    """The worker processes of one run, each logging to its own file."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, cmd: Sequence[str], env: dict[str, str], stdin_pipe: bool = False) -> int:
        """Start one worker process; its stdout and stderr go to ``log_dir``."""
        log_path = self.log_dir / f"worker-{len(self.procs)}.log"
        with open(log_path, "ab") as log:
            # Own session: a Ctrl-C at the harness reaches the workers only
            # through stop(), so every stop is the same warm shutdown.
            proc = subprocess.Popen(
                list(cmd),
                env=env,
                stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc.pid

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (every peer's warm shutdown), wait, then SIGKILL the trees and raise."""
        trees = {p.pid: descendants(p.pid) for p in self.procs}
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        stuck = []
        for proc in self.procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stuck.append(proc.pid)
        leftovers = [pid for tree in trees.values() for pid in tree if is_alive(pid)]
        for pid in stuck + leftovers:
            _kill(pid)
        for proc in self.procs:
            if proc.pid in stuck:
                proc.wait(10)
        self.procs = []
        if stuck or leftovers:
            raise WorkerStopError(
                f"killed after {timeout:.0f}s: roots {stuck}, children {leftovers}"
            )


def is_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """All processes below ``pid`` (not ``pid`` itself)."""
    children = _parent_map() if children is None else children
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def tree_rss(pid: int, children: dict[int, list[int]]) -> int:
    """Resident bytes of ``pid`` and everything below it."""
    total = 0
    for p in [pid, *descendants(pid, children)]:
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_SIZE
        except (OSError, IndexError):
            continue  # exited between the scan and the read
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pids: Sequence[int]) -> float:
    """CPU seconds (user + system) used so far by ``pids`` and everything below them."""
    children = _parent_map()
    total = 0
    for pid in pids:
        for p in [pid, *descendants(pid, children)]:
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited between the scan and the read
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_busy_s() -> float:
    """CPU seconds all cores spent neither idle nor waiting for I/O since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / CLOCK_TICKS


class RssSampler:
    """Samples the summed RSS of the given process trees in a thread; keeps the peak."""

    def __init__(self, pids: Sequence[int], interval: float = 0.2) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            children = _parent_map()
            total = sum(tree_rss(pid, children) for pid in self.pids)
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval)
