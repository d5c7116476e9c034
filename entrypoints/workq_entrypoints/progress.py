"""Progress of a job as a text bar, and following a job to its end (watch and the demo)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import workq
from workq import FINAL_STATUSES

DONE, DEAD, TODO = "#", "x", "."

Job = Mapping[str, Any]


def render_bar(done: int, failed: int, dead: int, size: int, width: int = 30) -> str:
    """``[####x.....]  40% 4/10 done, 1 failing, 1 dead``.

    ``failed`` counts items whose last attempt failed (retrying or dead, as the
    API reports it), so the text shows only the retrying part as "failing".
    Dead items take ``x`` cells: they are final, and hiding them in the empty
    part would make a failed job look merely slow.
    """
    width = max(width, 1)
    size = max(size, 0)
    done_cells, dead_cells = _cells(done, dead, size, width)
    bar = DONE * done_cells + DEAD * dead_cells + TODO * (width - done_cells - dead_cells)
    percent = 100 * (done + dead) // size if size else 100
    text = f"[{bar}] {percent:3d}% {done}/{size} done"
    retrying = max(failed - dead, 0)
    if retrying:
        text += f", {retrying} failing"
    if dead:
        text += f", {dead} dead"
    return text


def _cells(done: int, dead: int, size: int, width: int) -> tuple[int, int]:
    """Cells for completed and dead items; a full bar only when every item is final."""
    if size <= 0:
        return width, 0
    done, dead = min(max(done, 0), size), min(max(dead, 0), size)
    finished = min(done + dead, size)
    finished_cells = finished * width // size
    if finished < size:
        finished_cells = min(finished_cells, width - 1)
    dead_cells = round(dead * width / size) if dead else 0
    dead_cells = min(max(dead_cells, 1 if dead else 0), finished_cells)
    return finished_cells - dead_cells, dead_cells


def render_job(job: Job, width: int = 30) -> str:
    """One status line for a job record as the API returns it (``status`` plus counts)."""
    bar = render_bar(
        int(job.get("completed") or 0),
        int(job.get("failed") or 0),
        int(job.get("dead") or 0),
        int(job.get("size") or 0),
        width,
    )
    return f"{job.get('status', '?'):<10} {bar}"


def is_final(job: Job) -> bool:
    return job.get("status") in FINAL_STATUSES


def watch(
    fetch: Callable[[], Job],
    on_update: Callable[[Job], None],
    interval: float = 1.0,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Job:
    """Poll ``fetch`` until the job is final; report each poll; return the final record.

    For services that do not take subscriptions (see ``follow``); errors
    from ``fetch`` propagate so the caller decides what an outage means.
    """
    while True:
        job = fetch()
        on_update(job)
        if is_final(job):
            return job
        sleep(interval)


def follow(
    client: workq.Client, job_id: str, on_update: Callable[[Job], None], interval: float = 1.0
) -> Job:
    """Report the job each time the service pushes it (``jobUpdated``) until it is final.

    Where the service takes no WebSocket (an older one, a proxy that does not
    pass upgrades) or the connection drops, it polls every ``interval``
    seconds instead, so following a job never depends on subscriptions.
    """
    last: Job | None = None
    try:
        for job in client.watch(job_id):
            last = job.to_dict()
            on_update(last)
    except workq.Unavailable:
        pass
    if last is not None and is_final(last):
        return last
    return watch(lambda: client.job(job_id).to_dict(), on_update, interval)


class LinePrinter:
    """An ``on_update`` for ``watch``: a redrawn line on a TTY, else a line every few seconds.

    Logs and CI output must not fill with carriage returns, so off a TTY it
    prints only when the status changes, the job is final, or ``every_s`` passed.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        every_s: float = 5.0,
        width: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every_s = every_s
        self.width = width
        self.clock = clock
        self._last_at: float | None = None
        self._last_status: str | None = None
        self._last_len = 0

    def __call__(self, job: Job) -> None:
        line = render_job(job, self.width)
        if self.tty:
            self._redraw(line, final=is_final(job))
        elif self._due(job):
            self.stream.write(line + "\n")
            self.stream.flush()

    def _redraw(self, line: str, final: bool) -> None:
        padding = " " * max(self._last_len - len(line), 0)
        self.stream.write("\r" + line + padding + ("\n" if final else ""))
        self.stream.flush()
        self._last_len = len(line)

    def _due(self, job: Job) -> bool:
        now, status = self.clock(), job.get("status")
        due = (
            self._last_at is None
            or status != self._last_status
            or is_final(job)
            or now - self._last_at >= self.every_s
        )
        if due:
            self._last_at, self._last_status = now, status
        return due
