"""Draw drain throughput and enqueue rate per system and configuration.

``python -m bench.chart results.json docs/benchmarks.png``
"""

from __future__ import annotations

import argparse
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
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.chart", description=__doc__.split("\n")[0])
    p.add_argument("results", type=Path)
    p.add_argument("out", type=Path)
    args = p.parse_args(argv)
    draw(json.loads(args.results.read_text()), args.out)


if __name__ == "__main__":
    main()
