"""A real local stack for the client: auth, jobs and an executor on free ports, and users of it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import workq
from tests.cli.conftest import FailingPlugin
from tests.support.ports import free_port
from workq_core import hookimpl
from workq_core.db import connect
from workq_core.db.sql import run
from workq_core.runtime import Runtime, bootstrap
from workq_entrypoints.stack import Stack, start_stack

PASSWORD = "S3cret!pass-for-the-client"


class SleepJob:
    """Items that take a while, so a job can be caught unfinished (waits, cancels)."""

    name = "Sleep"
    description = "Sleep for the given seconds."
    input_schema = {
        "type": "object",
        "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": 5}},
        "required": ["seconds"],
    }
    retry = None  # the executor's configured policy

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        time.sleep(data["seconds"])
        return {"slept": data["seconds"]}


class SleepPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(SleepJob())


@dataclass
class Running:
    """The stack and the runtime it was started from (to start more services beside it)."""

    stack: Stack
    runtime: Runtime

    @property
    def jobs_url(self) -> str:
        return self.stack.jobs_url

    @property
    def auth_url(self) -> str:
        return self.stack.auth_url


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Every service in this process, SQLite and the embedded broker under a fresh data dir."""
    runtime = bootstrap(
        env={
            "WORKQ_CORE_DATA_DIR": str(tmp_path_factory.mktemp("client-stack")),
            "WORKQ_CORE_LOCAL": "true",
            "WORKQ_AUTH_BCRYPT_COST": "4",
            "WORKQ_EXECUTOR_RELAY": "false",
            "WORKQ_JOBS_AUTH_CACHE_S": "0",  # a logout takes effect at the jobs service at once
        },
        extra_plugins=[("client-failing", FailingPlugin()), ("client-sleep", SleepPlugin())],
    )
    stack = start_stack(runtime, free_ports=True)
    try:
        yield Running(stack, runtime)
    finally:
        stack.stop()


@pytest.fixture
def email(running: Running) -> str:
    """A new user of the stack; its password is PASSWORD."""
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    with workq.Client(running.jobs_url, running.auth_url) as client:
        client.create_user(address, PASSWORD)
    return address


@pytest.fixture
def client(running: Running, email: str) -> Iterator[workq.Client]:
    """A client logged in as a user of its own."""
    with workq.Client(running.jobs_url, running.auth_url) as logged_in:
        logged_in.login(email, PASSWORD)
        yield logged_in


def make_admin(running: Running, email: str) -> None:
    """Give the user with ``email`` the admin role (an operator does it in the database)."""
    db = connect(running.runtime.settings.database_url)
    with db.connection_context():
        run(db, "UPDATE users SET role = 'admin' WHERE email = ?", (email,))
    db.close()


def nowhere() -> str:
    """A GraphQL URL on a port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/graphql"


def fibonacci(n: int) -> str:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return str(a)
