"""Shared fixtures: PostgreSQL and both Pulsar brokers per session, databases of both engines."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import peewee
import psycopg2
import pytest

from tests.support.brokers import GENUINE, KINDS, LITE, TestBroker
from tests.support.postgres import TEST_SETTINGS, PgServer, PrivatePostgres, find_or_start
from workq_core.db import connect

DB_ENGINES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The PostgreSQL server of this session: named, found on 5432, or started privately.

    No server at all is a failure, not a skip: the database tests must run
    against the real server (tests/support/postgres.py says where it looks).
    """
    server, private = find_or_start(session_directory("postgres"))
    yield server
    if private is not None:
        private.destroy()


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this test's own, which it may stop and crash (outage tests).

    Its directory is outside pytest's basetemp: a pytest session starting
    meanwhile resets ``pytest-of-<user>`` to mode 0700, and the server's
    system user (as root) could then no longer reach its data for ``pg_ctl``.
    """
    server = PrivatePostgres(session_directory("private-pg"), TEST_SETTINGS)
    server.start()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def postgres_session_url(pg_server: PgServer) -> Iterator[str]:
    """A uniquely named PostgreSQL database for this session, dropped at the end."""
    name = pg_server.create_database("workq_test")
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


def _reset_postgres(url: str) -> None:
    """Empty the session database so each test starts from no schema at all."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()


@pytest.fixture(scope="session")
def lite_broker() -> Iterator[TestBroker]:
    """One pulsar-lite broker for the session, on a free port."""
    yield from session_broker(LITE)


@pytest.fixture(scope="session")
def genuine_broker() -> Iterator[TestBroker]:
    """One genuine Apache Pulsar standalone broker for the session (slow to start: once)."""
    yield from session_broker(GENUINE)


def session_broker(kind: str) -> Iterator[TestBroker]:
    directory = session_directory(kind)
    broker = TestBroker.start(kind, directory)
    yield broker
    broker.stop()
    shutil.rmtree(directory, ignore_errors=True)


def session_directory(name: str) -> Path:
    """A directory for a server that lives as long as the session, outside pytest's basetemp.

    pytest keeps only the newest few basetemp directories and deletes older
    ones when a session starts, so a second test run started meanwhile would
    delete the data of this run's servers under their feet.
    """
    return Path(tempfile.mkdtemp(prefix=f"workq-test-{name}-"))


@pytest.fixture(scope="session", params=KINDS)
def broker(request: pytest.FixtureRequest) -> TestBroker:
    """The session's broker of each kind in turn: pulsar-lite, then genuine Apache Pulsar."""
    fixture = "lite_broker" if request.param == LITE else "genuine_broker"
    return request.getfixturevalue(fixture)


@pytest.fixture(params=DB_ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A URL of an empty database: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workq.db'}"
    url = request.getfixturevalue("postgres_session_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    """An unmigrated, empty database on each engine; closed after the test."""
    database = connect(database_url)
    yield database
    if not database.is_closed():
        database.close()
    if hasattr(database, "close_all"):
        database.close_all()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Under CI a skipped test is a failure: every test must really run there."""
    import os

    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("CI") and skipped:
        terminalreporter.write_line(
            f"CI forbids skipped tests; {len(skipped)} skipped (see the summary above)", red=True
        )
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED


_SESSION: list[pytest.Session] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _SESSION.append(session)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with pytest's own exit status once every report is written.

    Tests start and stop many pulsar-client and gRPC clients; at interpreter
    teardown their native destructors sometimes run against threads still
    reconnecting to a stopped broker and abort the process (SIGABRT) after a
    green run, which would fail CI for nothing. The services end the same way
    (workq_entrypoints.cli.exit_now).
    """
    import os
    import sys

    if _SESSION:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(_SESSION[0].exitstatus))
