"""Who may do what: every operation needs a user the auth service vouches for."""

from __future__ import annotations

import uuid

import pytest
from falcon import testing

from tests.jobs_service.conftest import EXECUTE, job, submit
from tests.support.ports import free_port
from workq_core.db import connect
from workq_core.jobs_service import JobsApi, create_jobs_app
from workq_core.rpc.client import AuthClient

OPERATIONS = [
    ("query { jobs { name description } }", None),
    ("query ($id: ID!) { job(id: $id) { id } }", {"id": str(uuid.uuid4())}),
    ("{ myJobs { nodes { id } } }", None),
    (EXECUTE, {"executeJobInput": {"name": "Fibonacci", "data": {"iterations": 1}}}),
    ("mutation ($id: ID!) { cancelJob(id: $id) { id } }", {"id": str(uuid.uuid4())}),
    ("mutation ($id: ID!) { retryDeadItems(id: $id) { id } }", {"id": str(uuid.uuid4())}),
]


@pytest.mark.parametrize(("document", "variables"), OPERATIONS)
def test_every_operation_needs_a_valid_token(stack, document, variables):
    anonymous = stack.anonymous()
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}

    for response in (
        anonymous.post(document, variables),
        anonymous.post(document, variables, forged),
    ):
        assert response.code == "UNAUTHENTICATED"
        assert response.json["data"] in (None, {"job": None})  # job is nullable
    assert stack.count("jobs") == 0


def test_auth_service_down_denies_with_unavailable(stack):
    client = stack.user()
    stack.auth.stop()

    response = client.post(
        EXECUTE, {"executeJobInput": {"name": "Fibonacci", "data": {"iterations": 1}}}
    )

    assert response.code == "UNAVAILABLE"
    assert response.json["data"] is None
    assert stack.count("jobs") == 0


def test_another_users_job_reads_exactly_like_a_missing_one(stack):
    alice, bob = stack.user(), stack.user()
    job_id = submit(alice, "Fibonacci", {"iterations": 5})
    missing = str(uuid.uuid4())

    assert job(alice, job_id, "id")["id"] == job_id
    query = "query ($id: ID!) { job(id: $id) { id status } }"
    assert bob.post(query, {"id": job_id}).json == {"data": {"job": None}}
    assert bob.post(query, {"id": job_id}).json == bob.post(query, {"id": missing}).json

    for mutation in ("cancelJob", "retryDeadItems"):
        document = "mutation ($id: ID!) { %s(id: $id) { id } }" % mutation  # noqa: UP031
        theirs = bob.post(document, {"id": job_id}).json
        absent = bob.post(document, {"id": missing}).json
        assert theirs == absent
        assert theirs["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert job(alice, job_id, "status cancelledAt") == {"status": "queued", "cancelledAt": None}


def test_an_unreachable_database_is_unavailable_without_driver_text(stack):
    """The API over a PostgreSQL port where nothing listens, behind the real auth service."""
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    api = JobsApi(connect(nowhere), stack.runtime.settings, stack.runtime.catalog)
    token = stack.user().cookies["Authentication"]

    with AuthClient(f"127.0.0.1:{stack.auth.grpc_port}") as auth:
        app = create_jobs_app(stack.runtime, api, auth.authenticate, api.db)
        response = testing.TestClient(app).simulate_post(
            "/graphql",
            json={
                "query": EXECUTE,
                "variables": {"executeJobInput": {"name": "Fibonacci", "data": {"iterations": 1}}},
            },
            headers={"Authorization": f"Bearer {token}"},
        )

    error = response.json["errors"][0]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "127.0.0.1" not in response.text and "connection" not in response.text.lower()
