"""Shared fixtures: a fresh PostgreSQL database per session, and database URLs for both engines."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import peewee
import psycopg2
import pytest

from workq_core.db import connect

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
DB_ENGINES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this session, dropped at the end.

    PostgreSQL unreachable is a failure, not a skip: the database tests must
    run against the real server.
    """
    name = f"workq_test_{secrets.token_hex(6)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(sql: str) -> None:
    """One statement on a fresh connection (a session-long one dies if PostgreSQL restarts)."""
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql)
    finally:
        admin.close()


def _reset_postgres(url: str) -> None:
    """Empty the session database so each test starts from no schema at all."""
    name = url.rsplit("/", 1)[1]
    conn = psycopg2.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()


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
