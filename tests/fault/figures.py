"""docs/reliability.md's figure tables from the lines the checker wrote (``WORKQ_FAULT_FIGURES``).

Each ``check`` appends one JSON line per test run when ``WORKQ_FAULT_FIGURES``
names a file (tests/fault/harness.py ``Report.figures``). This adds them up
per scenario, broker, database and form::

    WORKQ_FAULT_FIGURES=/tmp/figures.jsonl pytest tests/fault -m genuine_faults
    python -m tests.fault.figures /tmp/figures.jsonl

A run that failed before its check (a drain that timed out) writes no line:
pytest's own summary is the record of those.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

COLUMNS = ("lost", "duplicated", "unexpected", "dead_letter")
HEADER = (
    "| scenario | broker | database | form | runs | items per run | lost | duplicated | unexpected"
    " | dead-letter errors | re-executed | time to drain (s) |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)
_NODE = re.compile(r"^(?P<file>[^:]+)::(?P<name>[^\[]+)(?:\[(?P<params>[^\]]*)\])?$")


def scenario(test: str) -> tuple[str, str]:
    """``(file::test, form)`` of a test id; the form is ``short``, ``heavy`` or ``-``."""
    match = _NODE.match(test)
    if match is None:
        return test, "-"
    params = (match["params"] or "").split("-")
    form = next((p for p in params if p in ("short", "heavy")), "-")
    return f"{Path(match['file']).name}::{match['name']}", form


def span(values: list[Any]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def table(lines: Iterable[dict[str, Any]]) -> str:
    """One row per scenario, broker, database and form: runs, each figure's range over them.

    Lines from before the database was recorded were all on PostgreSQL.
    """
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        name, form = scenario(line["test"])
        groups[(name, line["broker"], line.get("database", "postgresql"), form)].append(line)
    rows = [HEADER]
    for (name, broker, database, form), runs in sorted(groups.items()):
        figures = [span([run[column] for run in runs]) for column in COLUMNS]
        rows.append(
            f"| {name} | {broker} | {database} | {form} | {len(runs)}"
            f" | {span([r['items'] for r in runs])}"
            f" | {' | '.join(figures)} | {span([r['re_executed'] for r in runs])}"
            f" | {span([r['drain_s'] for r in runs])} |"
        )
    return "\n".join(rows)


def main(paths: list[str]) -> None:
    lines = [
        json.loads(text)
        for path in paths
        for text in Path(path).read_text(encoding="utf-8").splitlines()
        if text.strip()
    ]
    print(table(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
