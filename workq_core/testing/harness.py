"""Run items of a job type through the real submission, relay and executor, in one process."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from workq_core.db import close_database, connect, migrate, sql
from workq_core.errors import ConfigError, InvalidPayload, JobTypeNotFound, WorkqError
from workq_core.executor.runner import start_executor
from workq_core.jobs import queries
from workq_core.jobs.relay import OutboxRelay
from workq_core.jobs.states import DEAD, FINAL, RETRYING
from workq_core.jobs.submission import submit_job
from workq_core.jobs.sweeper import lease_ms, stall_ms
from workq_core.retry import policy_for
from workq_core.runtime import Runtime, bootstrap
from workq_core.testing.delays import ScaledCatalog
from workq_core.testing.plugin import IN_MEMORY, InMemoryPlugin
from workq_core.testing.transport import DeadLetter, InMemoryBroker
from workq_core.types import JobType
from workq_core.validation import validate_items

DEFAULT_TIMEOUT_S = 30.0
POLL_S = 0.005
# The relay polls this often for retries falling due (the jobs service's polls
# every 0.25 s); a submission wakes it at once, as the jobs service does.
RELAY_POLL_S = 0.01
USER_EMAIL = "harness@workq.invalid"
# What the harness itself depends on; settings= cannot change these.
REQUIRED = {"transport.name": IN_MEMORY, "executor.relay": "false"}
_USER_SQL = "INSERT INTO users (email, password_hash) VALUES (?, ?)"
_UNSETTLED_SQL = (
    "SELECT COUNT(*) AS n FROM items WHERE job_id = ?"
    " AND (status NOT IN (?, ?, ?) OR (status = ? AND dead_lettered_at IS NULL))"
)


class HarnessTimeout(WorkqError):
    """A job did not finish within the harness's timeout."""


@dataclass(frozen=True)
class ItemOutcome:
    """One item once its job finished: what the executor recorded on it."""

    index: int
    status: str
    attempts: int
    max_attempts: int
    result: Any  # the handler's return value, decoded from the stored JSON; None unless completed
    error_type: str | None
    last_error: str | None
    # The handler's last ``ctx.progress(done, total, message)`` of its last attempt, if any.
    progress: tuple[int, int | None, str | None] | None = None


@dataclass(frozen=True)
class JobRun:
    """A finished job: its status (completed, failed), its items, and its dead letters."""

    job_id: str
    job_type: str
    status: str
    items: list[ItemOutcome]
    dead_letters: list[DeadLetter]

    @property
    def results(self) -> list[Any]:
        return [item.result for item in self.items]


class Harness:
    """Workq in one process, on SQLite in ``directory``, with the in-memory transport.

    :meth:`run` takes the path an item takes in production: validated as
    the jobs service validates it, stored with its outbox row in one
    transaction, published by an outbox relay, claimed by the executor
    (started with ``start_executor``, as ``workq executor`` starts it) with
    its attempt counted in the database, run, its outcome committed, then
    acknowledged, retried through the outbox, or dead-lettered. Nothing is
    simulated but the broker.

    Plugins are the installed ones (``entry_points``, as services load
    them) plus ``plugins``, in-code plugin objects by name. Settings come
    from ``settings`` (``{"section.key": value}``) over the harness's
    defaults, never from the environment or a ``workq.toml``, so a test
    runs the same everywhere. ``delay_scale`` multiplies every retry delay
    (0: retry at once); attempts are never scaled. ``db`` is the database,
    for assertions of a test's own.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        plugins: Mapping[str, Any] | None = None,
        entry_points: bool = True,
        settings: Mapping[str, Any] | None = None,
        delay_scale: float = 1.0,
    ) -> None:
        fixed = sorted(set(settings or {}) & set(REQUIRED))
        if fixed:
            raise ConfigError(f"the harness sets {', '.join(fixed)} itself")
        if delay_scale < 0:
            raise ConfigError(f"delay_scale must be 0 or more, got {delay_scale!r}")
        self.directory = Path(directory)
        self.plugins = dict(plugins or {})
        self.entry_points = entry_points
        self.settings = dict(settings or {})
        self.delay_scale = delay_scale
        self.broker = InMemoryBroker()
        self._started: list[Callable[[], None]] = []  # what close() undoes, newest first
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        """The settings, plugin manager and registries the executor runs with (once started)."""
        if self._runtime is None:
            raise WorkqError("the harness is not started: use start() or `with Harness(...)`")
        return self._runtime

    def start(self) -> Harness:
        """Migrate the database, then start a relay and an executor (each in its own threads)."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "workq.toml"
        config.write_text("# the harness's settings come from Harness(settings=...)\n")
        defaults = {
            "core.data_dir": str(self.directory),
            "database.url": f"sqlite:///{self.directory / 'workq.db'}",
            "executor.shutdown_grace_s": "5",
        }
        if not self.entry_points:
            defaults["executor.dedup_store"] = IN_MEMORY  # the shipped `memory` is an entry point
        plugins = [*self.plugins.items(), (IN_MEMORY, InMemoryPlugin(self.broker))]
        runtime = bootstrap(
            config_file=str(config),
            env={},
            flags={**defaults, **self.settings, **REQUIRED},
            extra_plugins=plugins,
            load_entry_points=self.entry_points,
        )
        if self.delay_scale != 1.0:
            catalog = ScaledCatalog(runtime.pm, runtime.settings.executor, self.delay_scale)
            runtime = Runtime(runtime.settings, runtime.pm, catalog)
        self._runtime = runtime
        self.db = connect(runtime.settings.database_url, runtime.settings.database.timeout_s)
        self._started.append(lambda: close_database(self.db))
        with self.db.connection_context():
            migrate(self.db)
            sql.run(self.db, _USER_SQL, (USER_EMAIL, "!"))  # the owner of the harness's jobs
            found = sql.rows(self.db, "SELECT id FROM users WHERE email = ?", (USER_EMAIL,))
            self._user_id = int(found[0]["id"])
        self._executor = start_executor(runtime)
        self._started.append(self._stop_executor)
        transport = runtime.transport()  # the relay's own, as the jobs service has its own
        self._started.append(transport.close)
        transport.declare(runtime.catalog.job_types.names())
        self._relay = OutboxRelay(
            self.db,
            transport,
            poll_s=RELAY_POLL_S,
            stall_ms=stall_ms(runtime.settings),
            lease_ms=lease_ms(runtime.settings),
        ).start()
        self._started.append(self._relay.stop)

    def _stop_executor(self) -> None:
        # Stop taking work, and close the receiver so that worker threads
        # blocked in receive() return now rather than at their timeout; they
        # can still settle what they hold. Then the executor's own shutdown.
        self._executor.worker.stopping.set()
        self._executor.worker.receiver.close()
        self._executor.stop()

    def close(self) -> None:
        """Stop the relay and the executor (letting running items finish), close the database."""
        while self._started:
            self._started.pop()()

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def job_type(self, name: str) -> JobType:
        """The job type ``name`` as the executor runs it; JobTypeNotFound says where to look."""
        try:
            return self.runtime.catalog.job_types.get(name)
        except JobTypeNotFound as exc:
            raise JobTypeNotFound(
                f"{exc.message} Plugins come from installed distributions (`pip install -e .` "
                "yours) and from Harness(plugins={...})."
            ) from None

    def run(
        self,
        job_type: str,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> JobRun:
        """Submit one job (an object is one item, a list many) and wait until it is finished.

        Items that fail the job type's schema raise InvalidPayload before
        anything is stored, as ``executeJob`` answers BAD_USER_INPUT. Returns
        once every item is completed or dead and its message settled;
        HarnessTimeout after ``timeout_s``.
        """
        job = self.job_type(job_type)
        items = [dict(data)] if isinstance(data, Mapping) else [dict(item) for item in data]
        if not items:
            raise InvalidPayload("data must contain at least one item.", field="data")
        validate_items(job, items)
        max_attempts = policy_for(job, self.runtime.settings.executor).max_attempts
        with self.db.connection_context():
            job_id = submit_job(
                self.db,
                user_id=self._user_id,
                job_type=job.name,
                items=items,
                max_attempts=max_attempts,
            ).job_id
        self._relay.wake()
        self._wait(job_id, job.name, timeout_s)
        return self._finished(job_id)

    def _wait(self, job_id: str, job_type: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        final = sorted(FINAL)
        while True:
            with self.db.connection_context():
                left = sql.rows(self.db, _UNSETTLED_SQL, (job_id, *final, DEAD))[0]["n"]
            if not left and not self.broker.pending(job_type):
                return
            if time.monotonic() > deadline:
                raise HarnessTimeout(self._not_finished(job_id, timeout_s))
            time.sleep(POLL_S)

    def _not_finished(self, job_id: str, timeout_s: float) -> str:
        items = self._finished(job_id).items
        waiting = [i for i in items if i.status not in FINAL][:5]
        described = "; ".join(
            f"item {i.index} {i.status} after attempt {i.attempts} of {i.max_attempts}"
            + (f" ({i.last_error})" if i.last_error else "")
            for i in waiting
        )
        hint = ""
        if any(i.status == RETRYING for i in waiting) and self.delay_scale:
            hint = " Retries wait the job type's delays; delay_scale=0 retries at once."
        described = described or "its items are, but messages of its job type are unsettled"
        return f"job {job_id} not finished within {timeout_s} s: {described}.{hint}"

    def _finished(self, job_id: str) -> JobRun:
        with self.db.connection_context():
            job = queries.find_job(self.db, self._user_id, job_id)
            assert job is not None
            records = queries.list_items(self.db, job_id, first=job.size)
        items = [
            ItemOutcome(
                index=r.index,
                status=r.status,
                attempts=r.attempts,
                max_attempts=r.max_attempts,
                result=json.loads(r.result) if r.result is not None else None,
                error_type=r.error_type,
                last_error=r.last_error,
                progress=None
                if r.progress_done is None
                else (r.progress_done, r.progress_total, r.progress_message),
            )
            for r in records
        ]
        dead = [
            d for d in self.broker.dead_letters(job.type) if d.properties.get("job_id") == job_id
        ]
        return JobRun(job_id, job.type, job.status, items, dead)
