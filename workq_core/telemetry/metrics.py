"""Every Prometheus metric Workq records, in one place (docs/operations.md lists them).

Import this module only after ``telemetry.multiprocess.prepare()`` has run in
a service process: prometheus-client picks per-process files or in-memory
values when it is first imported. Gauges that several processes add to are
``livesum`` (the sum over live processes).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# No ``*_created`` series: they double the series count and dashboards do not use them.
disable_created_metrics()

# Seconds: from milliseconds-fast items to hour-long ones.
DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
)  # fmt: skip
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

ITEM_ATTEMPTS = Counter(
    "workq_item_attempts_total", "Item attempts started by executors.", ["job_type"]
)
ITEM_COMPLETIONS = Counter(
    "workq_item_completions_total", "Items whose result was committed.", ["job_type"]
)
ITEM_RETRIES = Counter(
    "workq_item_retries_total", "Failed attempts that will be retried.", ["job_type"]
)
ITEM_DEAD_LETTERS = Counter(
    "workq_item_dead_letters_total", "Items dead-lettered (attempts used up).", ["job_type"]
)
ITEM_WAIT = Histogram(
    "workq_item_wait_duration_seconds",
    "Time an attempt waited from when it was due (submitted, or its retry due) until it started.",
    ["job_type"],
    buckets=DURATION_BUCKETS,
)
ITEM_RUN = Histogram(
    "workq_item_run_duration_seconds",
    "Time a job handler ran for one attempt, by outcome (completed, retrying, dead).",
    ["job_type", "outcome"],
    buckets=DURATION_BUCKETS,
)
EXECUTOR_THREADS = Gauge(
    "workq_executor_threads",
    "Executor worker threads, by state (busy: running a batch, idle: waiting for messages).",
    ["state"],
    multiprocess_mode="livesum",
)
HTTP_REQUESTS = Histogram(
    "workq_http_request_duration_seconds",
    "GraphQL HTTP requests, by service and operation name (operation type when unnamed).",
    ["service", "operation"],
    buckets=REQUEST_BUCKETS,
)
AUTH_CHECKS = Histogram(
    "workq_auth_check_duration_seconds",
    "Token checks the jobs service asked the auth service over gRPC, by result.",
    ["result"],
    buckets=REQUEST_BUCKETS,
)
RETENTION_JOBS = Counter(
    "workq_retention_deleted_jobs_total", "Finished jobs deleted by retention or `workq purge`."
)
RETENTION_ITEMS = Counter(
    "workq_retention_deleted_items_total", "Items deleted with their finished jobs."
)
