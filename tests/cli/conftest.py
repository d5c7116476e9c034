"""A real local stack (auth, jobs, executor, pulsar-lite, SQLite) and a way to run ``workq``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import workq
from workq_core import RetryPolicy, hookimpl
from workq_core.db.sql import run
from workq_core.runtime import bootstrap
from workq_entrypoints.stack import Stack, start_stack

PASSWORD = "S3cret!pass-for-cli"


class FailingJob:
    """A job type whose items always fail, once, so dead items and exit 1 show."""

    name = "AlwaysFails"
    description = "Raise an error."
    input_schema = {"type": "object"}
    retry = RetryPolicy(max_attempts=1)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        raise ValueError("this job always fails")


class FailingPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(FailingJob())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every service on free ports in this process; the broker starts under the data dir."""
    data_dir = tmp_path_factory.mktemp("cli-stack")
    runtime = bootstrap(
        env={
            "WORKQ_CORE_DATA_DIR": str(data_dir),
            "WORKQ_CORE_LOCAL": "true",
            "WORKQ_AUTH_BCRYPT_COST": "4",
            "WORKQ_EXECUTOR_RELAY": "false",
        },
        extra_plugins=[("cli-test-failing", FailingPlugin())],
    )
    running = start_stack(runtime, free_ports=True)
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Cli:
    """Runs ``python -m workq_entrypoints`` as a user would, with its own credentials file."""

    credentials: Path
    env: dict[str, str]

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "workq_entrypoints", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """No URLs in the environment: commands must use flags or what login saved."""
    credentials = tmp_path / "config" / "workq" / "credentials.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKQ_")}
    env["WORKQ_CREDENTIALS"] = str(credentials)
    return Cli(credentials, env)


def new_user(stack: Stack) -> str:
    """A new user of the stack (its password is PASSWORD); its email."""
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    with workq.Client(stack.jobs_url, stack.auth_url) as client:
        client.create_user(email, PASSWORD)
    return email


@pytest.fixture
def user(stack: Stack) -> str:
    return new_user(stack)


def make_admin(stack: Stack, email: str) -> None:
    """Give the user with ``email`` the admin role (an operator does it in the database)."""
    db = stack.jobs.db
    with db.connection_context():
        run(db, "UPDATE users SET role = 'admin' WHERE email = ?", (email,))


def login(cli: Cli, stack: Stack, email: str, password: str = PASSWORD) -> Any:
    """``workq login`` with the password on stdin, as a script would."""
    return cli(
        "login",
        "--email",
        email,
        "--password-stdin",
        "--auth-url",
        stack.auth_url,
        "--jobs-url",
        stack.jobs_url,
        stdin=password + "\n",
    )


@pytest.fixture
def logged_in(cli: Cli, stack: Stack, user: str) -> Cli:
    result = login(cli, stack, user)
    assert result.returncode == 0, result.stderr
    return cli
