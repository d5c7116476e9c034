"""The real stack for jobs service tests: auth service, jobs service, pulsar-lite, a database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import peewee
import pytest

from tests.auth.conftest import Client, auth_env, create_user, login
from workq_core import RetryPolicy, hookimpl
from workq_core.auth import AuthServiceHandle, start_auth_service
from workq_core.db import connect
from workq_core.db.sql import rows
from workq_core.jobs_service import JobsServiceHandle, start_jobs_service
from workq_core.runtime import Runtime, bootstrap
from workq_core.types import Receiver

EXECUTE = """mutation ExecuteJob($executeJobInput: ExecuteJobInput!) {
  executeJob(executeJobInput: $executeJobInput) { name description } }"""

JOB_FIELDS = """id name description status size queued running retrying completed failed dead
  cancelled createdAt updatedAt finishedAt cancelledAt"""


class EchoJob:
    """A second job type, with its own retry policy, so type filters and maxAttempts show."""

    name = "Echo"
    description = "Return the given text."
    input_schema = {
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": 20}},
        "required": ["text"],
        "additionalProperties": False,
    }
    retry = RetryPolicy(max_attempts=2)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        return {"text": data["text"]}


class EchoPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(EchoJob())


@dataclass
class Stack:
    """One test's services, plus a database connection to arrange and inspect state."""

    auth: AuthServiceHandle
    jobs: JobsServiceHandle
    runtime: Runtime
    db: peewee.Database

    def user(self, email: str | None = None) -> Client:
        """A new user, signed up and logged in through the auth service; talks to jobs."""
        email = email or f"{uuid.uuid4().hex[:12]}@example.com"
        at_auth = Client(self.auth.http_port)
        assert create_user(at_auth, email).status == 200
        assert login(at_auth, email).status == 200
        return Client(self.jobs.port, dict(at_auth.cookies))

    def anonymous(self) -> Client:
        return Client(self.jobs.port)

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.db.connection_context():
            return rows(self.db, query, params)

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])

    def subscribe(self, job_type: str) -> Receiver:
        transport = self.runtime.transport()
        self._transports.append(transport)
        return transport.subscribe([job_type])

    def __post_init__(self) -> None:
        self._transports: list[Any] = []

    def close(self) -> None:
        self.jobs.stop()
        self.auth.stop()
        for transport in self._transports:
            transport.close()
        if not self.db.is_closed():
            self.db.close()


def stack_env(database_url: str, tmp_path, broker_url: str) -> dict[str, str]:
    return {
        **auth_env(database_url, tmp_path),
        "WORKQ_CORE_DISABLE_PLUGINS": "sql",
        "PULSAR_SERVICE_URL": broker_url,
        "WORKQ_PULSAR_LITE_SHIM": "true",
        "WORKQ_PULSAR_NAMESPACE": f"t{uuid.uuid4().hex[:12]}",
    }


@pytest.fixture
def make_stack(database_url, tmp_path, lite_broker) -> Iterator[Callable[..., Stack]]:
    made: list[Stack] = []

    def make(plugins: tuple[tuple[str, Any], ...] = (), **env: str) -> Stack:
        settings_env = {**stack_env(database_url, tmp_path, lite_broker.url), **env}
        auth = start_auth_service(bootstrap(env=settings_env), port=0, grpc_port=0)
        settings_env["WORKQ_JOBS_AUTH_GRPC"] = f"127.0.0.1:{auth.grpc_port}"
        runtime = bootstrap(env=settings_env, extra_plugins=[("echo", EchoPlugin()), *plugins])
        try:
            jobs = start_jobs_service(runtime, port=0)
        except BaseException:
            auth.stop()
            raise
        stack = Stack(auth, jobs, runtime, connect(database_url))
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.close()


@pytest.fixture
def stack(make_stack) -> Stack:
    return make_stack()


def execute(client: Client, name: str, data: Any, key: str | None = None, fields: str = "id"):
    """``executeJob`` with the given selection; returns the response."""
    document = (
        "mutation ($input: ExecuteJobInput!) { executeJob(executeJobInput: $input) { "
        + fields
        + " } }"
    )
    variables = {"input": {"name": name, "data": data, "idempotencyKey": key}}
    return client.post(document, variables)


def submit(client: Client, name: str, data: Any, key: str | None = None) -> str:
    """Submit and return the new job's id, failing the test on any error."""
    response = execute(client, name, data, key)
    assert "errors" not in response.json, response.json
    return response.json["data"]["executeJob"]["id"]


def job(client: Client, job_id: str, fields: str = JOB_FIELDS) -> dict[str, Any] | None:
    response = client.post("query ($id: ID!) { job(id: $id) { " + fields + " } }", {"id": job_id})
    assert "errors" not in response.json, response.json
    return response.json["data"]["job"]
