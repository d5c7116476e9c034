"""Choosing the database by URL."""

from __future__ import annotations

import peewee
import pytest

from workq_core import ConfigError
from workq_core.db import connect, is_postgres


def test_sqlite_url_opens_a_file_with_wal_and_foreign_keys(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")

    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert (tmp_path / "sub" / "x.db").exists()
    assert not is_postgres(db)


def test_postgresql_url_connects(postgres_session_url):
    db = connect(postgres_session_url)

    with db.connection_context():
        assert db.execute_sql("SELECT 1").fetchone()[0] == 1
    assert is_postgres(db)
    db.close_all()


def test_postgresql_connections_end_transactions_left_idle_a_minute(postgres_session_url):
    # A frozen executor's open transaction would keep its items locked (docs/reliability.md)
    db = connect(postgres_session_url)

    with db.connection_context():
        timeout = db.execute_sql("SHOW idle_in_transaction_session_timeout").fetchone()[0]
    assert timeout == "1min"
    db.close_all()

    # A URL's own options replace it (e.g. a shorter limit)
    db = connect(f"{postgres_session_url}?options=-c%20idle_in_transaction_session_timeout%3D500")
    with db.connection_context():
        timeout = db.execute_sql("SHOW idle_in_transaction_session_timeout").fetchone()[0]
    assert timeout == "500ms"
    db.close_all()


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "postgresql://127.0.0.1/"])
def test_unusable_urls_are_config_errors(url):
    with pytest.raises(ConfigError, match=r"database\.url"):
        connect(url)


def test_settings_default_to_a_sqlite_file_under_the_data_dir(tmp_path):
    from workq_core.runtime import bootstrap

    runtime = bootstrap(env={"WORKQ_CORE_DATA_DIR": str(tmp_path)}, load_entry_points=False)

    db = connect(runtime.settings.database_url)

    assert isinstance(db, peewee.SqliteDatabase)
    assert db.database == str((tmp_path / "workq.db").resolve())
