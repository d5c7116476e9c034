"""Medians over repeats, the results table, and Workq's ratio to each peer."""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

#: metric key -> (column title, format, higher is better)
METRICS: dict[str, tuple[str, str, bool]] = {
    "enqueue_rate": ("enqueue/s", "{:,.0f}", True),
    "drain_throughput": ("drain/s", "{:,.0f}", True),
    "start_p50_ms": ("start p50 ms", "{:.1f}", False),
    "start_p99_ms": ("start p99 ms", "{:.1f}", False),
    "done_p50_ms": ("done p50 ms", "{:.1f}", False),
    "done_p99_ms": ("done p99 ms", "{:.1f}", False),
    "peak_rss_mib": ("RSS MiB", "{:.0f}", False),
    # Whether the paced enqueuer held its rate: latency at a lower rate is not comparable.
    "offered_rate": ("offered/s", "{:.0f}", True),
    # --prefill: cores busy on the machine during the drain, and the workers' share
    "cores_busy": ("cores busy", "{:.2f}", False),
    "worker_cores": ("worker cores", "{:.2f}", False),
}
#: Measured only by ``--prefill`` runs (which have no paced phase).
PREFILL_ONLY = {"cores_busy", "worker_cores"}
PACED_ONLY = {"start_p50_ms", "start_p99_ms", "done_p50_ms", "done_p99_ms", "offered_rate"}
#: Figures of the harness or the machine rather than of the system, left out of the ratios.
NOT_RATIOS = {"offered_rate", "cores_busy", "worker_cores"}


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (system, kind, workers): the median of each metric over successful runs."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[(run["system"], run["kind"], run["workers"])].append(run)
    rows = []
    for (system, kind, workers), group in groups.items():
        ok = [r["metrics"] for r in group if r["ok"]]
        medians = {
            key: statistics.median(m[key] for m in ok)
            for key in METRICS
            if ok and all(key in m for m in ok)
        }
        row = {"system": system, "kind": kind, "workers": workers}
        rows.append(row | {"runs_ok": len(ok), "runs": len(group), "median": medians})
    return rows


def ratios(summary: list[dict[str, Any]], ours: str = "workq") -> list[dict[str, Any]]:
    """Workq's median over each peer's, per configuration and metric (empty without Workq)."""
    by_config = {(r["kind"], r["workers"], r["system"]): r["median"] for r in summary}
    rows = []
    for (kind, workers, system), peer in by_config.items():
        mine = by_config.get((kind, workers, ours))
        if system == ours or not mine:
            continue
        keys = [k for k in METRICS if k not in NOT_RATIOS]
        values = {k: mine[k] / peer[k] for k in keys if k in mine and peer.get(k)}
        rows.append({"peer": system, "kind": kind, "workers": workers, "ratio": values})
    return rows


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=True)]
    lines = [header, ["-" * w for w in widths], *body]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines
    )


def format_summary(summary: list[dict[str, Any]]) -> str:
    header = ["system", "job", "workers", *[t for t, _, _ in METRICS.values()], "ok"]
    body = []
    for row in sorted(summary, key=lambda r: (r["kind"], r["workers"], r["system"])):
        cells = [
            fmt.format(row["median"][k]) if k in row["median"] else "-"
            for k, (_, fmt, _) in METRICS.items()
        ]
        ok = f"{row['runs_ok']}/{row['runs']}"
        body.append([row["system"], row["kind"], str(row["workers"]), *cells, ok])
    return _table(header, body)


def format_ratios(rows: list[dict[str, Any]]) -> str:
    keys = [k for k in METRICS if k not in NOT_RATIOS]
    header = ["Workq / peer", "job", "workers", *[METRICS[k][0] for k in keys]]
    body = []
    for row in sorted(rows, key=lambda r: (r["kind"], r["workers"], r["peer"])):
        cells = [f"{row['ratio'][k]:.2f}x" if k in row["ratio"] else "-" for k in keys]
        body.append([row["peer"], row["kind"], str(row["workers"]), *cells])
    note = "(> 1 is better for Workq in the rate columns, < 1 in latency and RSS)"
    return _table(header, body) + "\n" + note


def write_results(path: Path, args: argparse.Namespace, results: Any) -> None:
    """One run's arguments and results as JSON, for the docs' tables and later comparison."""
    record = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    path.write_text(json.dumps({**record, "results": results}, indent=2))
