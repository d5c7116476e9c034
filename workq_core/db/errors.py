"""Turn driver failures into Workq errors that carry no SQL or driver text."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from workq_core.errors import Unavailable

logger = logging.getLogger(__name__)

# SQLite reports syntax errors as OperationalError too; only these mean "unavailable".
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or used right now."""
    if isinstance(exc, peewee.InterfaceError):
        return True
    if not isinstance(exc, peewee.OperationalError):
        return False
    original = exc.__cause__ or exc.__context__
    if isinstance(original, sqlite3.Error):
        return any(marker in str(original).lower() for marker in _SQLITE_UNAVAILABLE)
    return True  # psycopg2.OperationalError: connection refused, lost, timed out


@contextmanager
def database_errors() -> Iterator[None]:
    """Re-raise an unreachable or locked database as ``Unavailable``.

    The driver's message (host names, SQL, file paths) goes to the server log
    only; clients see the generic ``Unavailable`` text.
    """
    try:
        yield
    except (peewee.DatabaseError, peewee.InterfaceError) as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("database unavailable", extra={"error": type(exc).__name__}, exc_info=True)
        raise Unavailable("The database is unavailable; try again later.") from None
