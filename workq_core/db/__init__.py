"""The database: one peewee database chosen by URL, and its versioned schema."""

from workq_core.db.connect import close_database, connect, is_postgres
from workq_core.db.errors import database_errors
from workq_core.db.migrator import applied_versions, migrate

__all__ = [
    "applied_versions",
    "close_database",
    "connect",
    "database_errors",
    "is_postgres",
    "migrate",
]
