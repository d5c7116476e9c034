"""Schedule tests use the jobs service tests' real stack (auth, jobs, pulsar-lite, database)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import peewee
import pytest

from tests.auth.conftest import Client
from tests.jobs_service.conftest import make_stack  # noqa: F401 - the fixture, shared
from workq_core.db import connect, migrate
from workq_core.db.sql import run

# Quick scheduler for tests: looks every 0.1 s, a lease that a dead holder
# loses within 2 s, and runs older than 0.5 s count as missed.
FAST = {
    "WORKQ_JOBS_SCHEDULER_TICK_S": "0.1",
    "WORKQ_JOBS_SCHEDULER_LEASE_S": "2",
    "WORKQ_JOBS_SCHEDULE_GRACE_S": "0.5",
}
SCHEDULE_FIELDS = """id name ownerId jobType data cron timeZone intervalSeconds missedRuns
  maxCatchUp overlap paused nextRunAt lastRunAt lastJob { id } runs skippedRuns lastSkipReason
  source createdAt updatedAt"""
CREATE = (
    "mutation ($input: CreateScheduleInput!) { createSchedule(input: $input) { "
    + SCHEDULE_FIELDS
    + " } }"
)


@pytest.fixture
def db(database_url) -> Iterator[peewee.Database]:
    """A migrated database on each engine, connected, for firing tests without a stack."""
    database = connect(database_url)
    migrate(database)
    database.connect()
    yield database
    database.close()


@pytest.fixture
def stack(make_stack):  # noqa: F811 - make_stack is the imported fixture
    return make_stack(**FAST)


def create(client: Client, **fields: Any):
    """``createSchedule`` with Echo defaults for what the test does not care about."""
    schedule = {
        "name": "every-hour",
        "jobType": "Echo",
        "data": {"text": "hi"},
        "cron": "0 * * * *",
    }
    schedule.update(fields)
    return client.post(CREATE, {"input": {k: v for k, v in schedule.items() if v is not None}})


def created(client: Client, **fields: Any) -> dict[str, Any]:
    response = create(client, **fields)
    assert "errors" not in response.json, response.json
    return response.json["data"]["createSchedule"]


def call(client: Client, mutation: str, schedule_id: str, fields: str = "id paused nextRunAt"):
    document = f"mutation ($id: ID!) {{ {mutation}(id: $id) {{ {fields} }} }}"
    if mutation == "deleteSchedule":
        document = "mutation ($id: ID!) { deleteSchedule(id: $id) }"
    return client.post(document, {"id": schedule_id})


def write(stack: Any, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change rows directly (arrange a state the API does not offer), committed at once."""
    with stack.db.connection_context():
        run(stack.db, sql, params)


def listing(client: Client) -> list[dict[str, Any]]:
    response = client.post("{ schedules { id name ownerId } }")
    assert "errors" not in response.json, response.json
    return response.json["data"]["schedules"]
