"""Limits through GraphQL: users read them, admins change them, items say why they wait."""

from __future__ import annotations

import uuid

import pytest

from tests.jobs_service.conftest import submit
from workq_core.db.sql import rows, run
from workq_core.executor import attempts
from workq_core.executor.attempts import Verdict
from workq_core.jobs.messages import ItemRef

# The API's rules are the same on both engines; tests/limits runs the claims on both.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LIMITS = "limits { key concurrency rate perS }"
SHOW = f"""query ($name: String) {{
  jobTypeLimits(name: $name) {{ name source updatedAt {LIMITS} }} }}"""
SET = f"""mutation ($name: String!, $limits: [LimitInput!]) {{
  setJobTypeLimits(name: $name, limits: $limits) {{ name source {LIMITS} }} }}"""


def admin(stack):
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    client = stack.user(email)
    with stack.db.connection_context():
        run(stack.db, "UPDATE users SET role = 'admin' WHERE email = ?", (email,))
    return client


def error_code(response) -> str:
    return response.json["errors"][0]["extensions"]["code"]


def test_every_job_type_starts_with_what_it_declares(stack):
    found = stack.user().post(SHOW, {}).json["data"]["jobTypeLimits"]
    assert {"name": "Echo", "source": "declared", "updatedAt": None, "limits": []} in found


def test_an_admin_sets_limits_and_resets_them_to_the_declared_ones(stack):
    client = admin(stack)
    limits = [{"key": "/text", "concurrency": 2, "rate": 10, "perS": 60}, {"concurrency": 5}]

    answer = client.post(SET, {"name": "Echo", "limits": limits}).json["data"]["setJobTypeLimits"]

    assert answer["source"] == "override"
    assert answer["limits"] == [
        {"key": "/text", "concurrency": 2, "rate": 10, "perS": 60.0},
        {"key": None, "concurrency": 5, "rate": None, "perS": 1.0},
    ]
    shown = stack.user().post(SHOW, {"name": "Echo"}).json["data"]["jobTypeLimits"]
    assert shown[0]["limits"] == answer["limits"] and shown[0]["updatedAt"]
    reset = client.post(SET, {"name": "Echo", "limits": None}).json["data"]["setJobTypeLimits"]
    assert reset == {"name": "Echo", "source": "declared", "limits": []}


def test_a_user_who_is_not_an_admin_cannot_change_limits(stack):
    response = stack.user().post(SET, {"name": "Echo", "limits": [{"concurrency": 1}]})
    assert error_code(response) == "FORBIDDEN"
    assert stack.count("job_type_limits") == 0


def test_bad_limits_are_refused_naming_what_is_wrong(stack):
    client = admin(stack)
    cases = [
        ([{"rate": 0}], "rate must be a positive integer"),
        ([{"key": "customer", "concurrency": 1}], "JSON pointer"),
        ([{"key": "/a"}], "needs concurrency, rate, or both"),
        ([{"concurrency": 1}, {"concurrency": 2}], "repeats key None"),
        ([{"rate": 1, "perS": 0}], "per_s must be between"),
    ]
    for limits, words in cases:
        response = client.post(SET, {"name": "Echo", "limits": limits})
        assert error_code(response) == "BAD_USER_INPUT", response.json
        assert words in response.json["errors"][0]["message"]
        assert response.json["errors"][0]["extensions"]["field"] == "limits"
    unknown = client.post(SET, {"name": "Nope", "limits": []})
    assert (
        error_code(unknown) == "BAD_USER_INPUT" and "Nope" in unknown.json["errors"][0]["message"]
    )
    assert stack.count("job_type_limits") == 0


def test_an_item_over_a_limit_says_which_limit_and_key_it_waits_for(stack):
    client = admin(stack)
    client.post(SET, {"name": "Echo", "limits": [{"key": "/text", "concurrency": 1}]})
    job_id = submit(client, "Echo", [{"text": "acme"}, {"text": "acme"}])
    found = stack.sql("SELECT id, idx FROM items WHERE job_id = ? ORDER BY idx", (job_id,))
    refs = [ItemRef(job_id, int(r["id"]), int(r["idx"]), 0) for r in found]
    with stack.db.connection_context():  # what an executor's claim does
        claims = attempts.claim(stack.db, refs, 60_000)
    assert [c.verdict for c in claims] == [Verdict.RUN, Verdict.PARKED]

    answer = client.post(
        "query ($id: ID!) { job(id: $id) { items {"
        " status limitedBy { reason key until } waitingFor { reason until detail } } } }",
        {"id": job_id},
    ).json["data"]["job"]["items"]

    waiting = {
        "reason": "CONCURRENCY_LIMIT",
        "until": None,
        "detail": "Parked by the concurrency limit of job type Echo on key /text=acme.",
    }
    assert answer == [
        {"status": "running", "limitedBy": None, "waitingFor": None},
        {
            "status": "queued",
            "limitedBy": {"reason": "CONCURRENCY_LIMIT", "key": "/text=acme", "until": None},
            "waitingFor": waiting,
        },
    ]
    with stack.db.connection_context():
        assert rows(stack.db, "SELECT attempts FROM items WHERE id = ?", (refs[1].item_id,)) == [
            {"attempts": 0}
        ]
