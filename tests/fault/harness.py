"""A real Workq stack in subprocesses, fault injection on it, and the history checker.

Processes: ``workq auth``, ``workq jobs`` and several ``workq executor`` run
from a throwaway virtualenv that has the FaultProbe plugin installed, against
a fresh PostgreSQL database and a pulsar-lite broker on loopback ports; each
writes its log to a file. ``proxied`` puts a TCP fault proxy
(tests/support/fault_proxy.py) between the services and the database, the
broker or the auth service; the test's own checks connect directly. The
history is what ``executeJob`` accepted (kept here) and the
``fault_effects`` table the plugin writes, outside the executor's own
bookkeeping; ``check`` compares both with the items table and the
dead-letter topic after a drain.

The database is PostgreSQL or, with ``WORKQ_FAULT_DB=sqlite``, a SQLite
file of the stack's own that every process opens (``database``); the
plugin's ``fault_effects`` table stays in PostgreSQL either way, so
``sql`` reads the stack's database and ``effects_sql`` the history.

The broker is either kind (``tests/support/brokers.py``): a pulsar-lite
process of the stack's own, or the session's genuine Apache Pulsar standalone
(slow to start, so one per session), on a namespace of the stack's own. Kill
and restart work on both, on the same port and data directory.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg2

import workq
from tests.compat.pulsar.standalone import PulsarStandalone
from tests.support.brokers import LITE, TestBroker
from tests.support.fault_proxy import FaultProxy
from tests.support.ports import free_port
from tests.support.postgres import PgServer
from workq_pulsar.broker_process import BrokerProcess, port_open

JOB_TYPE = "FaultProbe"
MAX_ATTEMPTS = 3  # FaultProbeJob.retry.max_attempts
AUTH_CACHE_S = 1  # jobs.auth_cache_s: how long an accepted token outlives an auth outage
SCHEDULER_LEASE_S = 2  # jobs.scheduler_lease_s: a killed scheduler's successor waits this long
PROXIED = ("db", "broker", "auth")
POSTGRES, SQLITE = "postgresql", "sqlite"  # the stack's database (WORKQ_FAULT_DB)
FINAL = ("completed", "dead", "cancelled")
EXECUTE = "mutation ($input: ExecuteJobInput!) { executeJob(executeJobInput: $input) { id size } }"
EFFECTS_TABLE = (
    "CREATE TABLE fault_effects (id BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL,"
    " idx INTEGER NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL,"
    " kind TEXT NOT NULL, at_ms BIGINT NOT NULL)"
)


def wait_until(predicate: Any, timeout_s: float, what: str, every_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s}s")
        time.sleep(every_s)


@dataclass
class Submission:
    job_id: str
    size: int
    poison: frozenset[int]


@dataclass
class Proc:
    """One service process and the file its output goes to."""

    kind: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 12) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.kind} {self.pid} ({self.log.name}):\n" + "\n".join(
            line[:300] for line in text
        )


@dataclass
class Stack:
    """Broker, database, auth, jobs and executors of one scenario; faults are methods."""

    python: str
    root: Path
    pg: PgServer  # the history's server, and the stack's database unless ``database`` is SQLITE
    database: str = POSTGRES
    db_name: str = ""
    shared_broker: TestBroker | None = None  # the session's genuine Pulsar; None: pulsar-lite
    broker: BrokerProcess | PulsarStandalone | None = None
    auth: Proc | None = None
    jobs: Proc | None = None
    executors: list[Proc] = field(default_factory=list)
    replicas: list[Proc] = field(default_factory=list)  # jobs services beside ``jobs``
    faulted_pids: set[int] = field(default_factory=set)
    submissions: list[Submission] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    token: str = ""
    overrides: dict[str, str] = field(default_factory=dict)  # environment of every process
    proxied: tuple[str, ...] = ()  # of PROXIED: the links that go through a fault proxy
    proxies: dict[str, FaultProxy] = field(default_factory=dict)
    drain_s: list[float] = field(default_factory=list)  # how long each ``drain`` waited
    _logs: int = 0

    # ---- lifecycle -------------------------------------------------------

    @property
    def dsn(self) -> str:
        """The PostgreSQL database of the history (and of the stack, on PostgreSQL)."""
        return self.pg.dsn(self.db_name)

    @property
    def sqlite_path(self) -> Path:
        return self.root / "workq.db"

    @property
    def database_url(self) -> str:
        """What the services open: PostgreSQL (through its proxy, if any) or the SQLite file."""
        if self.database == SQLITE:
            return f"sqlite:///{self.sqlite_path}"
        return self.service_pg.url(self.db_name)

    @property
    def broker_kind(self) -> str:
        return self.shared_broker.kind if self.shared_broker else LITE

    @property
    def jobs_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['jobs']}/graphql"

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['auth']}/graphql"

    @property
    def service_pg(self) -> PgServer:
        """Where the services reach PostgreSQL: the server, or its fault proxy."""
        if "db" not in self.proxies:
            return self.pg
        return replace(self.pg, host="127.0.0.1", port=self.proxies["db"].port)

    @property
    def broker_url(self) -> str:
        if "broker" in self.proxies:
            return f"pulsar://{self.proxies['broker'].address}"
        return self.broker.url if self.broker else ""

    @property
    def auth_grpc(self) -> str:
        if "auth" in self.proxies:
            return self.proxies["auth"].address
        return f"127.0.0.1:{self.ports['grpc']}"

    def _start_proxies(self) -> None:
        unknown = set(self.proxied) - set(PROXIED)
        assert not unknown, f"proxied: unknown links {sorted(unknown)}, known {PROXIED}"
        assert not (self.database == SQLITE and "db" in self.proxied), "SQLite has no link"
        assert self.broker is not None and self.broker.port is not None
        targets = {
            "db": (self.pg.host, self.pg.port),
            "broker": ("127.0.0.1", self.broker.port),
            "auth": ("127.0.0.1", self.ports["grpc"]),
        }
        for name in self.proxied:
            self.proxies[name] = FaultProxy(targets[name]).start()
        if "broker" in self.proxies:  # its lookup answers send clients to the proxy, not round it
            proxy = self.proxies["broker"]
            proxy.rewrite(f"127.0.0.1:{self.broker.port}".encode(), proxy.address.encode())

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("WORKQ_", "JWT_", "PULSAR_", "FAULT_"))
            and k not in ("PORT", "DATABASE_URL")
        }
        base.update(
            DATABASE_URL=self.database_url,
            PULSAR_SERVICE_URL=self.broker_url,
            JWT_SECRET=self.jwt_secret,
            FAULT_EFFECTS_DSN=self.dsn,
            WORKQ_CORE_DATA_DIR=str(self.root / "data"),
            WORKQ_PULSAR_LITE_SHIM=str(self.broker_kind == LITE).lower(),
            # genuine Pulsar creates a new namespace's topics slowly on a loaded machine
            WORKQ_PULSAR_OPERATION_TIMEOUT_S="10" if self.broker_kind == LITE else "30",
            WORKQ_PULSAR_NAMESPACE=self.namespace,
            WORKQ_PULSAR_NACK_DELAY_MS="100",
            WORKQ_EXECUTOR_LEASE_S="2",
            WORKQ_EXECUTOR_REDELIVER_AFTER_S="3",
            WORKQ_EXECUTOR_BASE_DELAY_MS="50",
            WORKQ_EXECUTOR_MAX_DELAY_MS="200",
            WORKQ_EXECUTOR_DEDUP_STORE="sql",
            WORKQ_EXECUTOR_SHUTDOWN_GRACE_S="10",
            WORKQ_AUTH_BCRYPT_COST="4",
            WORKQ_JOBS_AUTH_CACHE_S=str(AUTH_CACHE_S),
            WORKQ_JOBS_SCHEDULER_TICK_S="0.2",
            WORKQ_JOBS_SCHEDULER_LEASE_S=str(SCHEDULER_LEASE_S),
        )
        base.update(self.overrides)
        base.update(extra)
        return base

    def start(self, executors: int = 3) -> Stack:
        self.jwt_secret = secrets.token_urlsafe(48)
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        self._create_database()
        self._start_broker()
        self.ports = {"auth": free_port(), "grpc": free_port(), "jobs": free_port()}
        self._start_proxies()
        self.start_auth()
        self.start_jobs()
        for _ in range(executors):
            self.start_executor()
        self._login()
        self.wait_executors_ready(executors)
        return self

    def _start_broker(self) -> None:
        """A pulsar-lite of the stack's own, or the shared genuine one (restarted if killed)."""
        if self.shared_broker is None:
            self.namespace = f"f{secrets.token_hex(6)}"
            self.broker = BrokerProcess(self.root / "broker", port=free_port())
            self.broker.start()
            return
        self.broker = self.shared_broker.process
        if self.broker_down():
            self.broker.start()
        self.namespace = self.shared_broker.new_namespace()

    def broker_down(self) -> bool:
        assert self.broker is not None
        return self.broker.process is None or self.broker.process.poll() is not None

    def _create_database(self) -> None:
        self.db_name = self.pg.create_database("workq_fault")
        self.effects_sql(EFFECTS_TABLE)

    def _spawn(self, kind: str, args: list[str], **env: str) -> Proc:
        self._logs += 1
        log = self.root / f"{self._logs:03d}-{kind}.log"
        with open(log, "wb") as sink:
            popen = subprocess.Popen(
                [self.python, "-m", "workq_entrypoints", kind, "--log-format", "json", *args],
                env=self.env(**env),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        return Proc(kind, popen, log)

    def start_auth(self) -> Proc:
        args = ["--port", str(self.ports["auth"]), "--grpc-port", str(self.ports["grpc"])]
        self.auth = self._spawn("auth", args)
        self._wait_port(self.auth, self.ports["auth"])
        self._wait_port(self.auth, self.ports["grpc"])
        return self.auth

    def start_jobs(self, **env: str) -> Proc:
        args = ["--port", str(self.ports["jobs"])]
        args += ["--auth-grpc", self.auth_grpc]
        self.jobs = self._spawn("jobs", args, **env)
        self._wait_port(self.jobs, self.ports["jobs"])
        return self.jobs

    def start_jobs_replica(self, wait: bool = True, **env: str) -> Proc:
        """Another jobs service on the same database, on any free port (nobody calls it).

        ``wait=False`` for one that may die before it is up (a fault point).
        """
        args = ["--port", "0", "--auth-grpc", self.auth_grpc]
        proc = self._spawn("jobs", args, **env)
        self.replicas.append(proc)
        if wait:

            def started() -> bool:
                assert proc.alive(), f"jobs replica exited early\n{proc.tail()}"
                return "jobs service started" in proc.log.read_text(errors="replace")

            wait_until(started, 30, "a jobs replica started")
        return proc

    def scheduler_pid(self) -> int | None:
        """The pid of the jobs service holding the scheduler lease now, if any does."""
        found = self.sql(
            "SELECT holder FROM leases WHERE name = 'workq.scheduler' AND expires_at > %s",
            (int(time.time() * 1000),),
        )
        return int(found[0][0].split("-")[1]) if found else None

    def start_executor(self, threads: int = 4, **env: str) -> Proc:
        args = ["--threads", str(threads), "--port", "0"]  # several per host: any free port
        proc = self._spawn("executor", args, **env)
        self.executors.append(proc)
        return proc

    def wait_executors_ready(self, count: int) -> None:
        """Until ``count`` executors have written a heartbeat in the last few seconds."""
        live = "SELECT count(*) FROM executors WHERE heartbeat_at > %s"
        wait_until(
            lambda: self.sql(live, (int(time.time() * 1000) - 4000,))[0][0] >= count,
            30,
            f"{count} executors ready",
        )

    def _wait_port(self, proc: Proc, port: int) -> None:
        def ready() -> bool:
            assert proc.alive(), f"{proc.kind} exited early\n{proc.tail()}"
            return port_open(port)

        wait_until(ready, 30, f"{proc.kind} listening on {port}")

    def _login(self) -> None:
        email, password = f"{secrets.token_hex(6)}@example.com", "S3cret!pass-fault"
        with workq.Client(self.jobs_url, self.auth_url) as client:
            client.create_user(email, password)
            self.token = client.login(email, password)

    def stop(self) -> None:
        procs = [p for p in (*self.executors, *self.replicas, self.jobs, self.auth) if p]
        for proc in procs:
            if proc.alive():
                proc.popen.send_signal(signal.SIGCONT)
                proc.popen.terminate()
        for proc in procs:
            try:
                proc.popen.wait(20)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()
        for proxy in self.proxies.values():
            proxy.stop()
        if self.shared_broker is None and self.broker is not None:
            self.broker.stop()
        elif self.broker is not None and self.broker_down():
            self.broker.start()  # the session's, alive again after a test that killed it
        self.pg.drop_database(self.db_name)

    def tails(self) -> str:
        procs = [p for p in (self.auth, self.jobs, *self.replicas, *self.executors) if p]
        return "\n".join(p.tail() for p in procs)

    # ---- faults ------------------------------------------------------------

    def kill(self, proc: Proc, signum: int = signal.SIGKILL) -> None:
        self.faulted_pids.add(proc.pid)
        proc.popen.send_signal(signum)
        if signum == signal.SIGKILL:
            proc.popen.wait(10)

    def pause(self, proc: Proc) -> None:
        self.faulted_pids.add(proc.pid)
        proc.popen.send_signal(signal.SIGSTOP)

    def resume(self, proc: Proc) -> None:
        proc.popen.send_signal(signal.SIGCONT)

    def live_executors(self) -> list[Proc]:
        return [p for p in self.executors if p.alive()]

    # ---- client and database -----------------------------------------------

    def submit(
        self,
        size: int,
        poison_every: int = 0,
        sleep_ms: int = 0,
        idempotency_key: str | None = None,
        retry: bool = False,
        job_type: str = JOB_TYPE,
        delay_ms: int | None = None,
        **fields: Any,
    ) -> Submission:
        """``executeJob`` over HTTP; what it accepted joins the history (a retry only once).

        ``fields`` go into every item (``beat=True``, ``hang_on_attempt=1``).
        """
        poison = frozenset(range(3, size, poison_every)) if poison_every else frozenset()
        items = []
        for n in range(size):
            item: dict[str, Any] = {"key": str(n), **fields}
            if n in poison:
                item["poison"] = True
            if sleep_ms:
                item["sleep_ms"] = sleep_ms
            items.append(item)
        with workq.Client(self.jobs_url, token=self.token, timeout_s=60) as client:
            job = client.submit(job_type, items, idempotency_key, delay_ms=delay_ms)
        assert job.size == size, job
        submission = Submission(job.id, size, poison)
        known = [s for s in self.submissions if s.job_id == submission.job_id]
        if not (retry and known):
            self.submissions.append(submission)
        return submission

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A query (``%s`` placeholders) on the stack's database, PostgreSQL or SQLite."""
        if self.database != SQLITE:
            return self.effects_sql(query, params)
        conn = sqlite3.connect(self.sqlite_path, timeout=30, isolation_level=None)  # autocommit
        try:
            return conn.execute(query.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()

    def effects_sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A query on the history's PostgreSQL database (``fault_effects``)."""
        conn = psycopg2.connect(self.dsn, connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def counts(self) -> Counter[str]:
        return Counter(dict(self.sql("SELECT status, count(*) FROM items GROUP BY status")))

    def effects_count(self) -> int:
        return int(self.effects_sql("SELECT count(*) FROM fault_effects")[0][0])

    def drain(self, timeout_s: float) -> None:
        """Wait until every submitted item is final; fail with the counts and logs if not."""
        expected = sum(s.size for s in self.submissions)

        def drained() -> bool:
            counts = self.counts()
            return sum(counts[s] for s in FINAL) >= expected and sum(counts.values()) >= expected

        started = time.monotonic()
        try:
            wait_until(drained, timeout_s, "drain", every_s=0.25)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}; items {dict(self.counts())}\n{self.stuck()}\n{self.tails()}"
            ) from None
        self.drain_s.append(time.monotonic() - started)

    def stuck(self) -> str:
        """What a drain that timed out left: unfinished items, outbox rows, executors (why)."""
        now = int(time.time() * 1000)
        items = self.sql(
            "SELECT job_id, idx, status, attempts, published_at - %s, updated_at - %s,"
            " lease_expires_at - %s FROM items WHERE status NOT IN ('completed', 'dead',"
            " 'cancelled') ORDER BY id LIMIT 10",
            (now, now, now),
        )
        outbox = self.sql("SELECT count(*), min(item_id) FROM outbox")
        executors = self.sql(
            "SELECT id, heartbeat_at - %s, ran_dry_at - %s FROM executors", (now, now)
        )
        return (
            "unfinished (job, idx, status, attempts, published/updated/lease ms from now):"
            f" {items}\noutbox (rows, first item): {outbox}\nexecutors (heartbeat,"
            f" ran dry ms from now): {executors}"
        )

    def dead_letters(self) -> list[dict[str, str]]:
        """Read (and acknowledge) everything in the job type's dead-letter topic."""
        from workq_core.runtime import bootstrap

        env = {k: v for k, v in self.env().items() if k.startswith(("WORKQ_", "PULSAR_"))}
        transport = bootstrap(env=env).transport()
        try:
            receiver = transport.subscribe_dead_letters([JOB_TYPE])
            found: list[dict[str, str]] = []
            quiet_until = time.monotonic() + 3.0
            while time.monotonic() < quiet_until:
                delivery = receiver.receive(0.5)
                if delivery is None:
                    continue
                found.append(dict(delivery.properties))
                receiver.ack(delivery)
                quiet_until = time.monotonic() + 2.0
            return found
        finally:
            transport.close()


@dataclass
class Report:
    """What the checker found; ``ok`` when lost, duplicated, unexpected and DLQ are all empty."""

    items: int = 0
    effects: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    dead_letter: list[str] = field(default_factory=list)
    re_executed: int = 0  # runs repeated because their executor was killed or paused mid-attempt
    max_attempts_seen: int = 0
    drain_s: float = 0.0  # the longest wait for a drain after the faults

    def figures(self, broker: str, database: str) -> dict[str, Any]:
        """One line of docs/reliability.md's tables (tests/fault/figures.py adds them up)."""
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        return {
            "test": test,
            "broker": broker,
            "database": database,
            "items": self.items,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "unexpected": len(self.unexpected),
            "dead_letter": len(self.dead_letter),
            "re_executed": self.re_executed,
            "drain_s": round(self.drain_s, 1),
        }

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected or self.dead_letter)

    def describe(self) -> str:
        parts = [f"{self.items} items, {self.effects} side effects, {self.re_executed} re-executed"]
        for name in ("lost", "duplicated", "unexpected", "dead_letter"):
            found = getattr(self, name)
            if found:
                parts.append(f"{name} ({len(found)}): {found[:10]}")
        return "; ".join(parts)


def check(stack: Stack) -> Report:
    """Compare the accepted submissions with items, side effects and dead letters."""
    report = Report()
    submitted = {s.job_id: s for s in stack.submissions}
    items = {
        (job_id, idx): (status, attempts, max_attempts)
        for job_id, idx, status, attempts, max_attempts in stack.sql(
            "SELECT job_id, idx, status, attempts, max_attempts FROM items"
        )
    }
    effects: dict[tuple[str, int], list[tuple[int, int, str]]] = defaultdict(list)
    for job_id, idx, attempt, pid, kind in stack.effects_sql(
        "SELECT job_id, idx, attempt, pid, kind FROM fault_effects ORDER BY id"
    ):
        effects[(job_id, idx)].append((attempt, pid, kind))
    report.items, report.effects = len(items), sum(len(v) for v in effects.values())
    for job_id, idx in set(items) | set(effects):
        if job_id not in submitted or idx >= submitted[job_id].size:
            report.unexpected.append(f"{job_id}:{idx}")
    for sub in stack.submissions:
        for idx in range(sub.size):
            _check_item(report, stack, sub, idx, items.get((sub.job_id, idx)), effects)
    _check_dead_letters(report, stack, items)
    report.drain_s = max(stack.drain_s, default=0.0)
    if os.environ.get("WORKQ_FAULT_FIGURES"):
        with open(os.environ["WORKQ_FAULT_FIGURES"], "a", encoding="utf-8") as out:
            out.write(json.dumps(report.figures(stack.broker_kind, stack.database)) + "\n")
    return report


def _check_item(
    report: Report,
    stack: Stack,
    sub: Submission,
    idx: int,
    item: tuple[str, int, int] | None,
    effects: dict[tuple[str, int], list[tuple[int, int, str]]],
) -> None:
    key = f"{sub.job_id}:{idx}"
    if item is None or item[0] not in ("completed", "dead"):
        report.lost.append(f"{key} ({item[0] if item else 'missing'})")
        return
    status, attempts, max_attempts = item
    report.max_attempts_seen = max(report.max_attempts_seen, attempts)
    runs = effects.get((sub.job_id, idx), [])
    # A crash does not charge the attempt it cut short unless its start was marked
    # (docs/reliability.md), so a faulted process's run may share its attempt number
    # with the next run: only two runs of one attempt by healthy processes are duplicates.
    faulted = stack.faulted_pids
    per_attempt = Counter(a for a, pid, kind in runs if kind != "start" and pid not in faulted)
    if any(n > 1 for n in per_attempt.values()):
        report.duplicated.append(f"{key} ran twice in one attempt {dict(per_attempt)}")
    if idx in sub.poison:
        if status != "dead" or attempts != max_attempts:
            report.dead_letter.append(f"{key} poison but {status} after {attempts}/{max_attempts}")
        if any(kind == "ok" for _a, _p, kind in runs):
            report.unexpected.append(f"{key} poison item succeeded")
        return
    if status != "completed":
        report.lost.append(f"{key} (dead after {attempts} attempts, not poison)")
        return
    oks = [(attempt, pid) for attempt, pid, kind in runs if kind == "ok"]
    committed = [pid for attempt, pid in oks if attempt == attempts]
    healthy = [pid for pid in committed if pid not in faulted]
    if not committed or len(healthy) > 1:
        report.duplicated.append(f"{key} committed attempt {attempts} has {len(committed)} effects")
    report.re_executed += max(0, len(committed) - 1)  # the others: runs of faulted processes
    for attempt, pid in oks:
        if attempt > attempts:
            report.duplicated.append(f"{key} ran again (attempt {attempt}) after completing")
        elif attempt < attempts:
            if pid in stack.faulted_pids:
                report.re_executed += 1  # its executor died or paused after the side effect
            else:
                report.duplicated.append(
                    f"{key} attempt {attempt} by healthy pid {pid} succeeded, yet ran again"
                )


def _check_dead_letters(
    report: Report, stack: Stack, items: dict[tuple[str, int], tuple[str, int, int]]
) -> None:
    expected = {(s.job_id, idx) for s in stack.submissions for idx in s.poison}
    letters = Counter()
    for props in stack.dead_letters():
        key = (props.get("job_id", "?"), int(props.get("item_index", "-1")))
        letters[key] += 1
        if props.get("attempts") != str(MAX_ATTEMPTS):
            report.dead_letter.append(f"{key[0]}:{key[1]} dead-lettered at {props.get('attempts')}")
    for key in expected - set(letters):
        report.dead_letter.append(f"{key[0]}:{key[1]} poison, never dead-lettered")
    for key, n in letters.items():
        if key not in expected:
            report.dead_letter.append(f"{key[0]}:{key[1]} dead-lettered but not poison")
        elif n > 1:
            report.dead_letter.append(f"{key[0]}:{key[1]} dead-lettered {n} times")
