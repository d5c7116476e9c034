"""A small GraphQL app on the shared web layer, with tight limits to test them."""

from __future__ import annotations

import time

import peewee
import pytest
from falcon import testing

from workq_core import AuthError
from workq_core.db import database_errors
from workq_core.runtime import bootstrap
from workq_core.web import create_app, load_schema

SLOW_S = 1.5

LIMITS = {
    "WORKQ_GRAPHQL_MAX_BODY_BYTES": "2048",
    "WORKQ_GRAPHQL_MAX_JSON_DEPTH": "8",
    "WORKQ_GRAPHQL_MAX_DEPTH": "4",
    "WORKQ_GRAPHQL_MAX_ALIASES": "3",
    "WORKQ_GRAPHQL_MAX_TOKENS": "200",
}


def _whoami(_obj, info):
    return info.context.require_user()


def _boom(_obj, info):
    raise RuntimeError("SELECT password_hash FROM users at /srv/workq/db.py line 3")


def _leak(_obj, info):
    raise peewee.IntegrityError('duplicate key value violates unique constraint "users_email_key"')


def _down(_obj, info):
    # as every service's resolvers reach the database: through database_errors
    with database_errors():
        peewee.PostgresqlDatabase("nothing", host="127.0.0.1", port=1).connect()


def authenticate(token: str) -> str | None:
    if token == "good":
        return "alice"
    if token == "error":
        raise AuthError("bad token")
    return None


RESOLVERS = {
    "Query": {
        "hello": lambda _o, _i: "world",
        "whoami": _whoami,
        "boom": _boom,
        "leak": _leak,
        "down": _down,
        "node": lambda _o, _i: {"name": "n", "child": None},
        "slow": lambda _o, _i: time.sleep(SLOW_S) or "done",
    },
    "Mutation": {"touch": lambda _o, _i: True},
}


class HostClient(testing.TestClient):
    """falcon's ASGI simulation drops a ``Host`` header; pass it on as the ``host`` it honours."""

    def simulate_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        headers = kwargs.get("headers") or {}
        host = next((v for k, v in headers.items() if k.lower() == "host"), None)
        if host is not None:
            kwargs.setdefault("host", host)
        return super().simulate_request(*args, **kwargs)


def make_app(body_timeout_s: float = 30.0, **env: str):  # type: ignore[no-untyped-def]
    settings = bootstrap(env={**LIMITS, **env}, load_entry_points=False).settings
    schema = load_schema("tests.web", "sample.graphql", RESOLVERS)
    return create_app(settings.graphql, schema, authenticate, body_timeout_s=body_timeout_s)


def make_client(**env: str) -> testing.TestClient:
    return HostClient(make_app(**env))


@pytest.fixture
def client() -> testing.TestClient:
    return make_client()
