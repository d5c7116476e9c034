"""Draw drain throughput and enqueue rate per system and configuration.

``python -m bench.chart results.json docs/benchmarks.png``; with ``--scaling``,
drain throughput against worker processes, one line per system, with the
cores the machine and the workers kept busy (``bench.run --prefill`` runs);
with ``--soak``, a soak run's samples (tests/fault/test_soak.py,
``WORKQ_SOAK_OUT``): memory per process, throughput and table sizes over time.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display on CI or a server
import matplotlib.pyplot as plt

PANELS = (
    ("drain_throughput", "drain throughput (jobs/s)"),
    ("enqueue_rate", "enqueue rate (jobs/s)"),
)


def draw(results: dict[str, Any], out: Path) -> None:
    """One grouped bar panel per metric: configurations on x, one bar per system."""
    summary = results["summary"]
    configs = sorted({(r["kind"], r["workers"]) for r in summary})
    systems = sorted({r["system"] for r in summary}, key=lambda s: (s != "workq", s))
    cell = {(r["system"], r["kind"], r["workers"]): r["median"] for r in summary}
    width = 0.8 / len(systems)
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(9, 4 * len(PANELS)), squeeze=False)
    for ax, (key, title) in zip(axes[:, 0], PANELS, strict=True):
        for i, system in enumerate(systems):
            values = [cell.get((system, *c), {}).get(key, 0.0) for c in configs]
            xs = [x + (i - (len(systems) - 1) / 2) * width for x in range(len(configs))]
            bars = ax.bar(xs, values, width, label=system)
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
        ax.set_xticks(range(len(configs)), [f"{k}, {w} worker(s)" for k, w in configs])
        ax.set_ylabel("jobs/s")
        ax.set_title(title)
        ax.legend(fontsize=8)
    meta = results.get("meta", {})
    args = meta.get("args", {})
    fig.suptitle(
        f"median of {args.get('repeat', '?')} runs, n={args.get('n', '?')}, "
        f"{meta.get('machine', {}).get('cpus', '?')} CPUs, "
        f"publisher confirms {'on' if args.get('confirms', True) else 'off'}",
        fontsize=10,
    )
    _save(fig, out)


def draw_scaling(results: dict[str, Any], out: Path) -> None:
    """Drain/s by worker processes per system, and below it where the CPU went."""
    summary = [r for r in results["summary"] if r["median"]]
    systems = sorted({r["system"] for r in summary}, key=lambda s: (not s.startswith("workq"), s))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 8), sharex=True)
    for system in systems:
        cells = sorted((r["workers"], r["median"]) for r in summary if r["system"] == system)
        xs = [w for w, _ in cells]
        top.plot(xs, [m["drain_throughput"] for _, m in cells], marker="o", label=system)
        if all("cores_busy" in m for _, m in cells):
            bottom.plot(
                xs, [m["cores_busy"] for _, m in cells], marker="o", label=f"{system}: machine"
            )
            bottom.plot(
                xs,
                [m["worker_cores"] for _, m in cells],
                marker="x",
                ls="--",
                label=f"{system}: workers",
            )
    bottom.set_xticks(sorted({r["workers"] for r in summary}))
    cpus = results.get("meta", {}).get("machine", {}).get("cpus")
    if cpus:
        bottom.axhline(cpus, color="grey", lw=0.8)
    top.set_ylabel("drain throughput (jobs/s)")
    top.legend(fontsize=8)
    bottom.set_ylabel("cores busy during the drain")
    bottom.set_xlabel("worker processes")
    bottom.legend(fontsize=7)
    args = results.get("meta", {}).get("args", {})
    fig.suptitle(
        f"pre-filled drain of {args.get('n', '?')} jobs, median of {args.get('repeat', '?')}, "
        f"{cpus or '?'} CPUs",
        fontsize=10,
    )
    _save(fig, out)


def draw_soak(results: dict[str, Any], out: Path) -> None:
    """Three panels on one time axis: RSS per process, completions per second, table rows."""
    samples = results["samples"]
    ts = [s["t"] / 60 for s in samples]
    fig, (mem, rate, tables) = plt.subplots(3, 1, figsize=(9, 10), sharex=True)
    for role in sorted({r for s in samples for r in s["rss_kib"]}):
        mem.plot(ts, [s["rss_kib"].get(role, float("nan")) / 1024 for s in samples], label=role)
    mem.set_ylabel("resident memory (MiB)")
    mem.legend(fontsize=8)
    pairs = list(itertools.pairwise(samples))
    rate.plot(
        [b["t"] / 60 for _, b in pairs],
        [(b["done"] - a["done"]) / max(b["t"] - a["t"], 1e-9) for a, b in pairs],
        lw=0.8,
    )
    rate.set_ylabel("items completed per second")
    for table in sorted(samples[0]["tables"]):
        tables.plot(ts, [s["tables"][table] for s in samples], label=table)
    tables.set_ylabel("rows")
    tables.set_xlabel("minutes")
    tables.legend(fontsize=8)
    summary = results.get("summary", {})
    fig.suptitle(
        f"soak: {summary.get('items', '?')} items, {summary.get('kills', '?')} executor kills,"
        f" {summary.get('items_per_s', '?')} items/s overall",
        fontsize=10,
    )
    _save(fig, out)


def _save(fig: Any, out: Path) -> None:
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.chart", description=__doc__.split("\n")[0])
    p.add_argument("results", type=Path)
    p.add_argument("out", type=Path)
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--scaling", action="store_true", help="drain by worker processes")
    kind.add_argument("--soak", action="store_true", help="a soak run's samples over time")
    args = p.parse_args(argv)
    chart = draw_scaling if args.scaling else draw_soak if args.soak else draw
    chart(json.loads(args.results.read_text()), args.out)


if __name__ == "__main__":
    main()
