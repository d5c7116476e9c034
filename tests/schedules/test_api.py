"""Schedules through GraphQL: create, read, pause, resume, update, delete; bad input; owners."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.schedules.conftest import CREATE, call, create, created, listing, write


def test_create_stores_the_whole_definition_its_first_run_and_the_defaults(stack):
    alice = stack.user()

    before = dt.datetime.now(dt.UTC)
    schedule = created(
        alice,
        name="nightly",
        data=[{"text": "a"}, {"text": "b"}],
        cron="30 2 * * *",
        timeZone="Europe/Berlin",
        missedRuns="RUN_ALL",
        maxCatchUp=3,
        overlap="ALLOW",
    )

    assert schedule["name"] == "nightly"
    assert schedule["jobType"] == "Echo"
    assert schedule["data"] == [{"text": "a"}, {"text": "b"}]
    assert (schedule["cron"], schedule["timeZone"], schedule["intervalSeconds"]) == (
        "30 2 * * *",
        "Europe/Berlin",
        None,
    )
    assert (schedule["missedRuns"], schedule["maxCatchUp"], schedule["overlap"]) == (
        "RUN_ALL",
        3,
        "ALLOW",
    )
    assert schedule["paused"] is False
    assert (schedule["runs"], schedule["skippedRuns"], schedule["lastJob"]) == (0, 0, None)
    assert schedule["source"] is None
    next_run = dt.datetime.fromisoformat(schedule["nextRunAt"])
    berlin = next_run.astimezone(dt.timezone(dt.timedelta(hours=1))).replace(tzinfo=None)
    assert before < next_run <= before + dt.timedelta(days=1, hours=1)
    assert berlin.minute == 30 and berlin.hour in (2, 3)  # 02:30 local (CET or CEST)
    stored = stack.sql("SELECT user_id, job_type FROM schedules")
    assert stored == [{"user_id": int(schedule["ownerId"]), "job_type": "Echo"}]

    # The defaults, and an interval schedule
    schedule = created(alice, name="defaults", cron="*/5 * * * *")
    assert (schedule["missedRuns"], schedule["overlap"], schedule["maxCatchUp"]) == (
        "RUN_ONCE",
        "SKIP",
        10,
    )
    assert schedule["timeZone"] == "UTC"

    before = dt.datetime.now(dt.UTC)
    interval = created(alice, name="every-90s", cron=None, intervalSeconds=90)
    next_run = dt.datetime.fromisoformat(interval["nextRunAt"])
    assert interval["intervalSeconds"] == 90 and interval["cron"] is None
    assert interval["timeZone"] is None
    assert before + dt.timedelta(seconds=89) < next_run < before + dt.timedelta(seconds=92)


BAD_INPUT = [
    ({"cron": "0 24 * * *"}, "cron", None, "Bad hour"),
    ({"cron": "every day"}, "cron", None, "5 fields"),
    ({"timeZone": "Europe/Atlantis"}, "timeZone", None, "unknown time zone"),
    ({"cron": None, "intervalSeconds": 0}, "intervalSeconds", None, "between 1 and"),
    ({"cron": None, "intervalSeconds": 10**8}, "intervalSeconds", None, "between 1 and"),
    ({"intervalSeconds": 60}, "cron", None, "exactly one"),
    ({"cron": None}, "intervalSeconds", None, "exactly one"),
    ({"maxCatchUp": 0}, "maxCatchUp", None, "between 1 and 100"),
    ({"name": ""}, "name", None, "1 to 100"),
    ({"name": "x" + " " * 100}, "name", None, "1 to 100"),
    ({"data": [{"text": "ok"}, {"text": 5}]}, "text", 1, "item 1 of Echo"),
    ({"data": {"txt": "typo"}}, "text", 0, "item 0 of Echo"),
    ({"data": []}, "data", None, "at least one item"),
    ({"jobType": "Nope"}, None, None, "Unknown job type 'Nope'; available: Echo, Fibonacci"),
]


def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(stack):
    alice = stack.user()
    for fields, field, item, words in BAD_INPUT:
        response = create(alice, **fields)

        error = response.json["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", fields
        assert error["extensions"].get("field") == field, fields
        assert error["extensions"].get("item") == item, fields
        assert words in error["message"], fields
        assert response.json["data"] is None
    for field, value in (("missedRuns", "SOMETIMES"), ("overlap", "NEVER")):
        response = create(alice, **{field: value})  # refused before execution: not an enum value
        assert response.code == "BAD_USER_INPUT"
        assert value in response.json["errors"][0]["message"]
    assert stack.count("schedules") == 0

    # Names are unique per owner
    bob = stack.user()
    created(alice, name="report")
    created(bob, name="report")  # another owner's name does not clash
    response = create(alice, name="report", cron="0 0 * * *")
    assert response.json["errors"][0]["extensions"]["field"] == "name"
    assert "already have a schedule named 'report'" in response.json["errors"][0]["message"]
    assert stack.count("schedules") == 2


def test_pause_resume_and_delete(stack):
    alice = stack.user()
    schedule = created(alice, cron=None, intervalSeconds=3600)

    paused = call(alice, "pauseSchedule", schedule["id"]).json["data"]["pauseSchedule"]
    again = call(alice, "pauseSchedule", schedule["id"]).json["data"]["pauseSchedule"]
    resumed = call(alice, "resumeSchedule", schedule["id"]).json["data"]["resumeSchedule"]

    assert paused["paused"] is True and again["paused"] is True
    assert resumed["paused"] is False
    assert resumed["nextRunAt"] >= schedule["nextRunAt"]  # the first run after the resume
    assert created(alice, name="born-paused", paused=True)["paused"] is True

    assert call(alice, "deleteSchedule", schedule["id"]).json == {"data": {"deleteSchedule": True}}
    again = call(alice, "deleteSchedule", schedule["id"])
    assert again.json["errors"][0]["message"] == "No such schedule."
    assert again.json["errors"][0]["extensions"]["field"] == "id"
    assert [s["name"] for s in listing(alice)] == ["born-paused"]


def test_update_changes_only_the_given_fields(stack):
    alice = stack.user()
    schedule = created(alice, cron="0 9 * * *", timeZone="Asia/Tokyo")
    document = (
        "mutation ($id: ID!, $input: UpdateScheduleInput!) { updateSchedule(id: $id, input: $input)"
        " { name cron timeZone intervalSeconds data overlap nextRunAt } }"
    )

    moved = alice.post(document, {"id": schedule["id"], "input": {"cron": "0 10 * * *"}})
    to_interval = alice.post(
        document, {"id": schedule["id"], "input": {"intervalSeconds": 60, "overlap": "ALLOW"}}
    )
    bad = alice.post(document, {"id": schedule["id"], "input": {"data": {"text": 7}}})

    first = moved.json["data"]["updateSchedule"]
    assert (first["cron"], first["timeZone"], first["name"]) == (
        "0 10 * * *",
        "Asia/Tokyo",
        "every-hour",
    )
    second = to_interval.json["data"]["updateSchedule"]
    assert (second["cron"], second["timeZone"], second["intervalSeconds"]) == (None, None, 60)
    assert second["overlap"] == "ALLOW" and second["data"] == [{"text": "hi"}]
    assert bad.json["errors"][0]["extensions"]["field"] == "text"
    assert stack.sql("SELECT data FROM schedules") == [{"data": '[{"text":"hi"}]'}]


def test_another_users_schedule_reads_like_a_missing_one_but_an_admin_sees_all(stack):
    alice, bob = stack.user(), stack.user()
    schedule = created(alice)
    query = "query ($id: ID!) { schedule(id: $id) { id } }"

    assert (
        alice.post(query, {"id": schedule["id"]}).json["data"]["schedule"]["id"] == schedule["id"]
    )
    assert bob.post(query, {"id": schedule["id"]}).json == {"data": {"schedule": None}}
    assert bob.post(query, {"id": "not-an-id"}).json == {"data": {"schedule": None}}
    assert listing(bob) == []
    for mutation in ("pauseSchedule", "resumeSchedule", "deleteSchedule"):
        refused = call(bob, mutation, schedule["id"]).json["errors"][0]
        assert refused["message"] == "No such schedule.", mutation
    assert [s["id"] for s in listing(alice)] == [schedule["id"]]
    assert stack.sql("SELECT paused_at FROM schedules") == [{"paused_at": None}]

    bob_id = int(created(bob, name="bobs-own")["ownerId"])
    write(stack, "UPDATE users SET role = 'admin' WHERE id = ?", (bob_id,))
    assert {s["name"] for s in listing(bob)} == {"every-hour", "bobs-own"}
    assert [s["id"] for s in listing(alice)] == [schedule["id"]]
    paused = call(bob, "pauseSchedule", schedule["id"]).json["data"]["pauseSchedule"]
    assert paused["paused"] is True


def test_every_schedule_operation_needs_a_valid_token(stack):
    anonymous = stack.anonymous()
    some_id = str(uuid.uuid4())
    for document, variables in [
        ("{ schedules { id } }", None),
        ("query ($id: ID!) { schedule(id: $id) { id } }", {"id": some_id}),
        (CREATE, {"input": {"name": "x", "jobType": "Echo", "data": {}, "cron": "* * * * *"}}),
        ("mutation ($id: ID!) { pauseSchedule(id: $id) { id } }", {"id": some_id}),
        ("mutation ($id: ID!) { deleteSchedule(id: $id) }", {"id": some_id}),
    ]:
        assert anonymous.post(document, variables).code == "UNAUTHENTICATED", document
    assert stack.count("schedules") == 0
