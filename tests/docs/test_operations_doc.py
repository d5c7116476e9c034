"""docs/operations.md lists exactly the metrics the services expose, with their types,
and the Grafana dashboard queries only those."""

from __future__ import annotations

import json
import re
from pathlib import Path

from workq_core.db import connect, migrate
from workq_core.jobs_service.queue_gauges import QueueGauges
from workq_core.telemetry.scrape import scrape

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "workq.json"
SUFFIXES = ("_bucket", "_count", "_sum")


def documented() -> dict[str, str]:
    """Metric name -> type, from the rows of the doc's metrics table."""
    return dict(re.findall(r"^\| `(workq_\w+)` \| (\w+) \|", DOC, re.MULTILINE))


def exposed(tmp_path: Path) -> dict[str, str]:
    """Metric name -> type, from a real scrape with the jobs service's queue gauges."""
    db = connect(f"sqlite:///{tmp_path / 'workq.db'}")
    migrate(db)
    body, _ = scrape([QueueGauges(db, ["Fibonacci"])])
    return dict(re.findall(r"^# TYPE (workq_\w+) (\w+)$", body.decode(), re.MULTILINE))


def test_every_exposed_metric_is_documented_with_its_type_and_nothing_else(tmp_path) -> None:
    assert documented() == exposed(tmp_path)


def test_names_follow_prometheus_conventions(tmp_path) -> None:
    for name, kind in exposed(tmp_path).items():
        assert name.startswith("workq_"), name
        assert name.endswith("_total") == (kind == "counter"), name
        if kind == "histogram":
            assert name.endswith("_seconds"), name


def test_the_dashboard_queries_only_documented_metrics() -> None:
    names = set(documented())
    dashboard = json.loads(DASHBOARD.read_text())
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\bworkq_\w+", target["expr"]))
    base = {re.sub(rf"({'|'.join(SUFFIXES)})$", "", name) for name in used}
    assert base <= names, base - names
    # every documented metric has a panel
    assert names <= base, names - base
