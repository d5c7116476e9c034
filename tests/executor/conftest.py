"""A real pipeline for executor tests: database and broker (each of both kinds), relay, executor."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from workq_core.db import connect, migrate
from workq_core.db.sql import rows, run
from workq_core.executor.runner import ExecutorHandle, start_executor
from workq_core.jobs.relay import OutboxRelay
from workq_core.jobs.submission import submit_job
from workq_core.jobs.sweeper import lease_ms
from workq_core.runtime import Runtime, bootstrap


def wait_for(predicate: Callable[[], Any], timeout_s: float = 30.0, every_s: float = 0.05) -> Any:
    """Poll until ``predicate`` is truthy; fail with its last value otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            assert value, f"condition not met within {timeout_s}s (last value {value!r})"
            return value
        time.sleep(every_s)


class Pipeline:
    """Submit jobs, run relays and executors, read item states: one test's whole stack."""

    def __init__(self, env: dict[str, str], extra_plugins: list[tuple[str, Any]]) -> None:
        self.env = env
        self.extra_plugins = extra_plugins
        self.db = connect(env["DATABASE_URL"])
        migrate(self.db)
        self.runtime = self.make_runtime()
        self.transport = self.runtime.transport()
        self.transport.declare(self.runtime.catalog.job_types.names())
        self.executors: list[ExecutorHandle] = []
        self.relays: list[OutboxRelay] = []
        self.user_id = self.new_user()

    def make_runtime(self, **env: str) -> Runtime:
        return bootstrap(env={**self.env, **env}, extra_plugins=self.extra_plugins)

    def new_user(self) -> int:
        """Another owner for jobs (``submit(..., user_id=...)``)."""
        with self.db.connection_context():
            email = f"{uuid.uuid4().hex}@example.com"
            run(self.db, "INSERT INTO users (email, password_hash) VALUES (?, ?)", (email, "x"))
            return int(rows(self.db, "SELECT id FROM users WHERE email = ?", (email,))[0]["id"])

    def submit(self, job_type: str, items: list[dict[str, Any]], **kwargs: Any) -> str:
        with self.db.connection_context():
            job_id = submit_job(
                self.db,
                user_id=kwargs.pop("user_id", self.user_id),
                job_type=job_type,
                items=items,
                max_attempts=kwargs.pop("max_attempts", 3),
                **kwargs,
            ).job_id
        return job_id

    def start_relay(self, **options: Any) -> OutboxRelay:
        """A relay polling fast; ``options`` go to OutboxRelay (``window=...``)."""
        lease = lease_ms(self.runtime.settings)
        relay = OutboxRelay(
            self.db, self.transport, poll_s=0.05, stall_ms=2000, lease_ms=lease, **options
        ).start()
        self.relays.append(relay)
        return relay

    def start_executor(self, **env: str) -> ExecutorHandle:
        handle = start_executor(self.make_runtime(WORKQ_EXECUTOR_RELAY="false", **env))
        self.executors.append(handle)
        return handle

    def items(self, job_id: str) -> list[dict[str, Any]]:
        with self.db.connection_context():
            return rows(self.db, "SELECT * FROM items WHERE job_id = ? ORDER BY idx", (job_id,))

    def statuses(self, job_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items(job_id):
            counts[item["status"]] = counts.get(item["status"], 0) + 1
        return counts

    def wait_final(self, job_id: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        seen: dict[str, Any] = {}

        def final() -> list[dict[str, Any]] | None:
            items = self.items(job_id)
            done = all(i["status"] in ("completed", "dead", "cancelled") for i in items)
            seen["statuses"] = self.statuses(job_id)
            seen["not_final"] = [i for i in items if i["status"] not in ("completed", "dead")][:3]
            return items if done else None

        try:
            return wait_for(final, timeout_s)
        except AssertionError as exc:
            raise AssertionError(f"job {job_id} not final: {seen}{self._log_tails()}") from exc

    def _log_tails(self) -> str:
        """The end of each executor process's log, to see why a job did not finish."""
        from pathlib import Path

        tails = []
        for log in sorted(Path(self.env["WORKQ_CORE_DATA_DIR"]).glob("executor-*.log")):
            lines = log.read_text().splitlines()
            tails.append(f"\n--- {log.name}:\n" + "\n".join(line[:400] for line in lines[-15:]))
        return "".join(tails)

    def close(self) -> None:
        for handle in self.executors:
            handle.grace_s = 5
            handle.stop()
        for relay in self.relays:
            relay.stop()
        self.transport.close()
        self.db.close()


@pytest.fixture
def pipeline_env(broker, database_url, tmp_path) -> dict[str, str]:
    """Settings for one test: its own Pulsar namespace, fast retries, short leases."""
    return {
        "DATABASE_URL": database_url,
        **broker.env(),
        "WORKQ_PULSAR_NACK_DELAY_MS": "100",
        "WORKQ_CORE_DATA_DIR": str(tmp_path),
        "WORKQ_EXECUTOR_BASE_DELAY_MS": "100",
        "WORKQ_EXECUTOR_MAX_DELAY_MS": "1000",
        "WORKQ_EXECUTOR_LEASE_S": "3",
        "WORKQ_EXECUTOR_THREADS": "4",
        "WORKQ_EXECUTOR_REDELIVER_AFTER_S": "2",
    }


@pytest.fixture
def make_pipeline(pipeline_env) -> Iterator[Callable[..., Pipeline]]:
    made: list[Pipeline] = []

    def make(extra_plugins: list[tuple[str, Any]] | None = None, **env: str) -> Pipeline:
        pipeline = Pipeline({**pipeline_env, **env}, extra_plugins or [])
        made.append(pipeline)
        return pipeline

    yield make
    for pipeline in made:
        pipeline.close()
