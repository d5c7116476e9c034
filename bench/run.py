"""Run the benchmark: ``python -m bench.run [--n 20000] [--workers 1,all] [--repeat 3]``.

Runs are interleaved (repeat 1 of every system and configuration, then
repeat 2, ...) and the order of systems rotates each repeat, so a burst of
noise on this shared machine lands on everyone alike. Each cell reports the
median over repeats. A failed run is reported and makes the exit status 1;
it does not stop the other runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import report
from bench.measure import RunSpec, run_once
from bench.systems import DEFAULT_SYSTEMS, REGISTRY, load, unavailable_reason
from bench.watchdog import deadline
from bench.workload import KINDS

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--systems", type=_csv, default=list(DEFAULT_SYSTEMS), help="comma list")
    p.add_argument("--kinds", type=_csv, default=list(KINDS), help="noop,fib")
    p.add_argument("--n", type=int, default=20_000, help="jobs in the drain phase")
    p.add_argument("--workers", type=_csv, default=["1", "all"], help="e.g. 1,all or 1,2,4")
    p.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is reported")
    p.add_argument("--paced-n", type=int, default=2_000, help="jobs in the paced phase; 0 skips")
    p.add_argument("--rate", type=float, default=200.0, help="offered rate of the paced phase")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per phase before failing")
    p.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    p.add_argument(
        "--no-confirms",
        dest="confirms",
        action="store_false",
        help="enqueue without publisher confirms (RabbitMQ peers); default: confirms on",
    )
    p.add_argument(
        "--prefill",
        action="store_true",
        help="drain a queue filled before the workers start (no paced phase)",
    )
    p.add_argument("--out", type=Path, help="results JSON (default bench/results/<time>.json)")
    args = p.parse_args(argv)
    unknown = [s for s in args.systems if s not in REGISTRY]
    if unknown:
        p.error(f"unknown systems {unknown}; known: {', '.join(REGISTRY)}")
    if bad := [k for k in args.kinds if k not in KINDS]:
        p.error(f"unknown job kinds {bad}; known: {', '.join(KINDS)}")
    cores = os.cpu_count() or 1
    args.workers = sorted({cores if w == "all" else int(w) for w in args.workers})
    return args


def pick_systems(names: list[str]) -> list[str]:
    """The requested systems that can run here; say why the others are skipped."""
    ready = []
    for name in names:
        reason = unavailable_reason(name)
        if reason:
            print(f"skipping {name}: {reason}", flush=True)
        else:
            ready.append(name)
    return ready


def schedule(systems: list[str], args: argparse.Namespace) -> list[RunSpec]:
    """Every run in interleaved order: repeat-major, systems rotated each repeat."""
    specs = []
    for rep in range(args.repeat):
        order = systems[rep % len(systems) :] + systems[: rep % len(systems)]
        for kind in args.kinds:
            for workers in args.workers:
                for system in order:
                    specs.append(
                        RunSpec(
                            system,
                            kind,
                            workers,
                            args.n,
                            args.paced_n,
                            args.rate,
                            args.timeout,
                            args.amqp_url,
                            args.redis_url,
                            args.confirms,
                            args.prefill,
                        )
                    )
    return specs


def execute(specs: list[RunSpec]) -> list[dict[str, Any]]:
    runs = []
    for i, spec in enumerate(specs, 1):
        label = f"[{i}/{len(specs)}] {spec.system} {spec.kind} workers={spec.workers}"
        print(label, flush=True)
        run: dict[str, Any] = {"system": spec.system, "kind": spec.kind, "workers": spec.workers}
        try:
            # Phases time out on their own; this catches a call that blocks.
            with deadline(3 * spec.timeout + 120, label):
                run |= {"ok": True, "metrics": run_once(spec)}
        except Exception as exc:
            traceback.print_exc()
            print(f"  FAILED: {exc}", flush=True)
            run |= {"ok": False, "error": f"{type(exc).__name__}: {exc}", "metrics": {}}
        runs.append(run)
    return runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    systems = pick_systems(args.systems)
    if not systems:
        print("no system can run here", file=sys.stderr)
        return 2
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    runs = execute(schedule(systems, args))
    summary = report.summarize(runs)
    results: dict[str, Any] = {
        "meta": {
            "started": started,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "python": platform.python_version(),
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "versions": {name: load(name).versions() for name in systems},
        },
        "runs": runs,
        "summary": summary,
        "ratios": report.ratios(summary),
    }
    out = args.out or RESULTS_DIR / f"{started.replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(report.format_summary(summary))
    if results["ratios"]:
        print()
        print(report.format_ratios(results["ratios"]))
    print(f"\nresults written to {out}")
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
