"""LimitProbe: a test job type that writes when each attempt starts and ends, in its own file.

Each executor process appends ``start``/``end`` lines (item key, job, index,
attempt, wall-clock ms) to ``$LIMIT_PROBE_DIR/<pid>.log``, flushed at once,
so an attempt cut short by SIGKILL leaves its start behind. The tests
rebuild from these files how many attempts of a key really ran at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workq_core import RetryPolicy, hookimpl

NAME = "LimitProbe"


class LimitProbeJob:
    name = NAME
    description = "Test-only: note start and end of each attempt, sleeping in between."
    input_schema = {
        "type": "object",
        "properties": {
            "customer": {"type": "string"},
            "sleep_ms": {"type": "integer", "minimum": 0, "maximum": 10_000},
        },
        "required": ["customer"],
        "additionalProperties": False,
    }
    retry = RetryPolicy(max_attempts=5, base_delay_ms=50, max_delay_ms=200)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        started = _note("start", data, ctx)
        time.sleep(data.get("sleep_ms", 0) / 1000)
        ended = _note("end", data, ctx)
        return {"start": started, "end": ended, "pid": os.getpid()}


def _note(kind: str, data: dict[str, Any], ctx: Any) -> int:
    at = int(time.time() * 1000)
    line = f"{kind} {data['customer']} {ctx.job_id} {ctx.item_index} {ctx.attempt} {at}\n"
    path = Path(os.environ["LIMIT_PROBE_DIR"]) / f"{os.getpid()}.log"
    with open(path, "a") as sink:
        sink.write(line)
    return at


@hookimpl
def workq_register_job_types(registry: Any) -> None:
    registry.add(LimitProbeJob())


def attempts(
    directory: Path, killed_at: dict[int, int] | None = None
) -> list[tuple[str, int, int]]:
    """Every attempt as ``(customer, start_ms, end_ms)``; an unfinished one ends at its kill."""
    spans = []
    for log in directory.glob("*.log"):
        pid = int(log.stem)
        open_: dict[tuple[str, ...], tuple[str, int]] = {}
        for line in log.read_text().splitlines():
            kind, customer, job_id, index, attempt, at = line.split()
            key = (job_id, index, attempt)
            if kind == "start":
                open_[key] = (customer, int(at))
            else:
                customer, start = open_.pop(key)
                spans.append((customer, start, int(at)))
        for customer, start in open_.values():
            spans.append((customer, start, (killed_at or {}).get(pid, 2**62)))
    return spans


def running(directory: Path) -> int:
    """Attempts started and not ended yet, across every process's file."""
    return sum(end == 2**62 for _customer, _start, end in attempts(directory))


def most_at_once(spans: list[tuple[str, int, int]]) -> dict[str, int]:
    """Per customer, the most attempts whose spans overlapped at one moment."""
    events: dict[str, list[tuple[int, int]]] = {}
    for customer, start, end in spans:
        events.setdefault(customer, []).extend([(start, 1), (end, -1)])
    peaks = {}
    for customer, marks in events.items():
        level = peak = 0
        for _at, step in sorted(marks):  # an end before a start at the same ms
            level += step
            peak = max(peak, level)
        peaks[customer] = peak
    return peaks
