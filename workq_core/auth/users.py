"""The users table through peewee, and the user values the rest of the service sees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee

from workq_core.db import database_errors
from workq_core.errors import InvalidPayload


@dataclass(frozen=True)
class User:
    """A user as resolvers and gRPC see it: no hash."""

    id: int
    email: str
    role: str
    token_version: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class UserColumns(peewee.Model):
    """The columns of ``users``; :func:`user_model` binds a subclass to a database."""

    id = peewee.BigAutoField()
    email = peewee.CharField(max_length=254)
    password_hash = peewee.CharField(max_length=100)
    role = peewee.CharField(max_length=20, default="user")
    token_version = peewee.IntegerField(default=0)
    created_at = peewee.DateTimeField(default=_now)
    updated_at = peewee.DateTimeField(default=_now)


def user_model(db: peewee.Database) -> type[UserColumns]:
    """The peewee model of ``users`` bound to ``db`` (one class per database)."""

    class UserRow(UserColumns):
        class Meta:
            database = db
            table_name = "users"

    return UserRow


class UserStore:
    """Every query on ``users``; driver failures surface as Unavailable."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        self.model = user_model(db)

    def create(self, email: str, password_hash: str) -> User:
        """Insert with only the fields a client may choose; the rest are the server's."""
        with database_errors():
            try:
                with self.db.atomic():
                    row = self.model.create(email=email, password_hash=password_hash)
            except peewee.IntegrityError:
                raise InvalidPayload("Email is already registered.", field="email") from None
        return _user(row)

    def by_email(self, email: str) -> tuple[User, str] | None:
        """The user and its hash, or None."""
        with database_errors():
            row = self.model.get_or_none(peewee.fn.lower(self.model.email) == email.lower())
        return None if row is None else (_user(row), row.password_hash)

    def by_id(self, user_id: int) -> User | None:
        with database_errors():
            row = self.model.get_or_none(self.model.id == user_id)
        return None if row is None else _user(row)

    def password_hash(self, user_id: int) -> str | None:
        with database_errors():
            row = self.model.get_or_none(self.model.id == user_id)
        return None if row is None else row.password_hash

    def all(self) -> list[User]:
        with database_errors():
            return [_user(row) for row in self.model.select().order_by(self.model.id)]

    def revoke_tokens(self, user_id: int, new_hash: str | None = None) -> None:
        """Bump the token version (earlier tokens stop working), optionally with a new hash."""
        changes: dict[peewee.Field, object] = {
            self.model.token_version: self.model.token_version + 1,
            self.model.updated_at: _now(),
        }
        if new_hash is not None:
            changes[self.model.password_hash] = new_hash
        with database_errors():
            self.model.update(changes).where(self.model.id == user_id).execute()


def _user(row: UserColumns) -> User:
    return User(id=row.id, email=row.email, role=row.role, token_version=row.token_version)
