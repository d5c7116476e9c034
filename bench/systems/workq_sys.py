"""Workq: jobs submitted through its GraphQL API, executors consuming from Pulsar.

Configurations: ``workq`` (SQLite, the embedded default) and ``workq-pg``
(a database made per run on the PostgreSQL server that
``tests/support/postgres.py`` finds or starts), each on pulsar-lite, and
``workq-pulsar`` and ``workq-pg-pulsar``, the same on a genuine Apache Pulsar
standalone broker (``tests/compat/pulsar``). Each run starts a fresh broker
(outside the timed phases), an auth service process, a jobs service process (with
its outbox relay) and N ``workq executor`` processes (one process each,
with the shipped defaults: 4 threads, batches of up to 32, 100 prefetched).

Choices, and why:

- Everything goes through the product's front door: a user logs in, then
  ``enqueue_bulk`` is one ``executeJob`` with all items (Workq's bulk API) and
  ``enqueue_one`` one ``executeJob`` per job, over HTTP with the JWT checked
  over gRPC. The peers enqueue in-process; this path costs Workq more.
- At-least-once and more, as shipped: every item is validated, committed with
  an outbox row before the answer, published by the relay, its attempt counted
  in the database before it runs, its result stored, and the message
  acknowledged only after the commit. Dedup store ``memory`` (the default).
- The job type is registered in code by the bench processes
  (``bench.systems.workq_plugin``), exactly like an installed plugin's.
"""

from __future__ import annotations

import atexit
import functools
import json
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

import peewee

import workq
from bench.procs import ProcessGroup
from bench.systems.base import Job, RunContext
from bench.systems.workq_plugin import NAME
from tests.compat.pulsar.standalone import PulsarStandalone, pulsar_version
from tests.support.postgres import PgServer, find_or_start
from workq_core.db import connect, migrate
from workq_core.db.sql import rows, run
from workq_pulsar.broker_process import BrokerProcess

SUBMIT = (
    """mutation Submit($input: ExecuteJobInput!) { executeJob(executeJobInput: $input) { id } }"""
)


class WorkqSystem:
    name = "workq"
    postgres = False
    broker_kind: type[BrokerProcess] | type[PulsarStandalone] = BrokerProcess

    def setup(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.dir = Path(tempfile.mkdtemp(prefix=f"workq-bench-{ctx.run_id}-"))
        self.group = ProcessGroup(ctx.sink_dir)
        self.servers = ProcessGroup(self.dir)
        self.broker = self.broker_kind(self.dir / "broker")
        self.broker.start()
        self.db_name = ""
        self.env = self._env()
        auth = self._serve("auth", self.env)
        jobs = self._serve("jobs", {**self.env, "WORKQ_JOBS_AUTH_GRPC": auth["grpc"]})
        email, password = f"bench-{ctx.run_id}@example.com", secrets.token_urlsafe(12)
        self.client = workq.Client(jobs["url"], auth["url"], timeout_s=600)
        self.client.create_user(email, password)
        self.client.login(email, password)

    def _serve(self, role: str, env: dict[str, str]) -> dict[str, str]:
        """Start one service process and wait until it says what it serves."""
        ready = self.dir / f"{role}.json"
        cmd = [sys.executable, "-m", "bench.systems.workq_procs", role, str(ready)]
        self.servers.spawn(cmd, env)
        return _wait_for_file(ready, self.ctx.timeout)

    def _env(self) -> dict[str, str]:
        env = self.ctx.worker_env()
        env = {k: v for k, v in env.items() if not k.startswith("WORKQ_")}
        if self.postgres:
            self.db_name = postgres().create_database("workq_bench")
            env["DATABASE_URL"] = postgres().url(self.db_name)
        else:
            env["DATABASE_URL"] = f"sqlite:///{self.dir / 'workq.db'}"
        env.update(
            {
                "PULSAR_SERVICE_URL": self.broker.url,
                "WORKQ_PULSAR_LITE_SHIM": str(self.broker_kind is BrokerProcess).lower(),
                "WORKQ_CORE_DATA_DIR": str(self.dir),
                "WORKQ_CORE_LOCAL": "true",
                "WORKQ_CORE_LOG_LEVEL": "WARNING",
                "WORKQ_AUTH_BCRYPT_COST": "4",
                "WORKQ_EXECUTOR_RELAY": "false",
                "WORKQ_CORE_DISABLE_PLUGINS": "fibonacci",
            }
        )
        return env

    def start_workers(self, n: int) -> Sequence[int]:
        cmd = [sys.executable, "-m", "bench.systems.workq_procs", "worker"]
        return [self.group.spawn(cmd, self.env) for _ in range(n)]

    def enqueue_bulk(self, jobs: Sequence[Job]) -> None:
        data = [{"kind": job.kind, "id": job.id} for job in jobs]
        self.client.execute(SUBMIT, {"input": {"name": NAME, "data": data}})

    def enqueue_one(self, job: Job) -> None:
        data = {"kind": job.kind, "id": job.id}
        self.client.execute(SUBMIT, {"input": {"name": NAME, "data": data}})

    def stop_workers(self) -> None:
        self.group.stop()

    def teardown(self) -> None:
        self.client.close()
        try:
            self.servers.stop()
        finally:
            self.broker.stop()
            if self.postgres:
                postgres().drop_database(self.db_name)

    def versions(self) -> dict[str, str]:
        packages = ("workq-server", "pulsar-client", "pulsar-lite", "peewee")
        found = {p: version(p) for p in packages}
        if self.postgres:
            found["psycopg2-binary"] = version("psycopg2-binary")
        if self.broker_kind is PulsarStandalone:
            found["apache-pulsar"] = pulsar_version()
        return found


class WorkqPostgresSystem(WorkqSystem):
    name = "workq-pg"
    postgres = True


class WorkqGenuinePulsarSystem(WorkqSystem):
    """SQLite and a genuine Apache Pulsar standalone broker (tests/compat/pulsar)."""

    name = "workq-pulsar"
    broker_kind = PulsarStandalone


class WorkqPostgresGenuinePulsarSystem(WorkqPostgresSystem):
    """PostgreSQL and genuine Apache Pulsar: the production combination."""

    name = "workq-pg-pulsar"
    broker_kind = PulsarStandalone


@functools.cache
def postgres() -> PgServer:
    """The benchmark's PostgreSQL server, found or started once per benchmark process.

    A private server keeps PostgreSQL's default durability settings: the
    figures are meant to be what a deployment would see.
    """
    server, private = find_or_start(Path(tempfile.mkdtemp(prefix="workq-bench-pg-")), {})
    if private is not None:
        atexit.register(private.destroy)
    return server


def fresh_databases(prefix: str) -> dict[str, Callable[[], str]]:
    """Engine name to a maker of the URL of a new, empty database of it (in-process benches)."""
    return {
        "sqlite": lambda: f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}",
        "postgres": lambda: postgres().url(postgres().create_database(prefix)),
    }


def migrated_with_user(url: str) -> tuple[peewee.Database, int]:
    """The database at ``url``, migrated, and the id of a new user in it (in-process benches)."""
    db = connect(url)
    migrate(db)
    with db.connection_context():
        email = f"{uuid.uuid4().hex}@bench"
        run(db, "INSERT INTO users (email, password_hash) VALUES (?, ?)", (email, "x"))
        user_id = int(rows(db, "SELECT id FROM users WHERE email = ?", (email,))[0]["id"])
    return db, user_id


def _wait_for_file(path: Path, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Workq server did not start within {timeout}s")
        time.sleep(0.05)
    time.sleep(0.05)
    return json.loads(path.read_text())
