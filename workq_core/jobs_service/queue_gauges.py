"""Gauges read from the database at scrape time: items by type and status, outbox lag.

The database is the source of truth, so these are right however many
executors and relays run; the jobs service serves them (one answer, not one
per executor). A scrape reuses an answer younger than ``CACHE_S`` so that
several scrapers cost the database one pair of queries per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence

import peewee
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from workq_core.db.sql import now_ms, placeholders, rows
from workq_core.jobs.states import DEAD, QUEUED, RETRYING, RUNNING

logger = logging.getLogger(__name__)

CACHE_S = 5.0
GAUGED_STATES = (QUEUED, RUNNING, RETRYING, DEAD)
_ITEMS_SQL = (
    "SELECT j.type AS job_type, i.status AS status, COUNT(*) AS n FROM items i"
    " JOIN jobs j ON j.id = i.job_id WHERE i.status IN ({marks}) GROUP BY j.type, i.status"
)
_OUTBOX_SQL = "SELECT MIN(due_at) AS oldest, COUNT(*) AS n FROM outbox WHERE due_at <= ?"


class QueueGauges:
    """A prometheus-client collector (``collect()``) over one database."""

    def __init__(self, db: peewee.Database, job_types: Sequence[str] = ()) -> None:
        self.db = db
        self.job_types = list(job_types)  # reported as 0 when they have no such items
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > CACHE_S:
                self._cached = (time.monotonic(), self._read())
            yield from self._cached[1]

    def _read(self) -> list[Metric]:
        items = GaugeMetricFamily(
            "workq_items",
            "Items by job type and status (queued, running, retrying, dead), from the database.",
            labels=["job_type", "status"],
        )
        due = GaugeMetricFamily(
            "workq_outbox_due_rows", "Outbox rows due for publishing and not yet published."
        )
        lag = GaugeMetricFamily(
            "workq_outbox_lag_seconds",
            "Age of the oldest due, unpublished outbox row (0 when the relay is caught up).",
        )
        up = GaugeMetricFamily(
            "workq_database_up", "1 if the last scrape could read the database, else 0."
        )
        try:
            with self.db.connection_context():
                sql = _ITEMS_SQL.format(marks=placeholders(len(GAUGED_STATES)))
                counts = rows(self.db, sql, GAUGED_STATES)
                now = now_ms()
                outbox = rows(self.db, _OUTBOX_SQL, (now,))[0]
        except peewee.DatabaseError:
            logger.warning("queue gauges not read: database unavailable", exc_info=True)
            up.add_metric([], 0)
            return [up]
        found = {(row["job_type"], row["status"]): int(row["n"]) for row in counts}
        for job_type in self.job_types:
            for status in GAUGED_STATES:
                found.setdefault((job_type, status), 0)
        for (job_type, status), count in sorted(found.items()):
            items.add_metric([job_type, status], count)
        due.add_metric([], int(outbox["n"] or 0))
        oldest = outbox["oldest"]
        lag.add_metric([], max(0.0, (now - int(oldest)) / 1000) if oldest is not None else 0.0)
        up.add_metric([], 1)
        return [items, due, lag, up]
