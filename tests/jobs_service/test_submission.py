"""Submitting jobs: the original documents, single and bulk data, and what is refused."""

from __future__ import annotations

import json

from tests.executor.conftest import wait_for
from tests.jobs_service.conftest import EXECUTE, execute, job, submit
from workq_core.jobs.messages import decode

FIB = {"name": "Fibonacci", "description": "Compute the Fibonacci number for the given iterations."}


def test_the_original_documents_work_verbatim(stack):
    client = stack.user()

    listed = client.post("query { jobs { name description } }")
    executed = client.post(
        EXECUTE, {"executeJobInput": {"name": "Fibonacci", "data": {"iterations": 10}}}
    )

    assert listed.status == 200
    assert FIB in listed.json["data"]["jobs"]
    assert {"name": "Echo", "description": "Return the given text."} in listed.json["data"]["jobs"]
    assert executed.json == {"data": {"executeJob": FIB}}


def test_job_types_include_their_input_schema(stack):
    listed = stack.user().post("{ jobs { name inputSchema } }").json["data"]["jobs"]

    schemas = {t["name"]: t["inputSchema"] for t in listed}
    assert schemas["Fibonacci"]["required"] == ["iterations"]


def test_one_object_is_a_job_of_one_item(stack):
    client = stack.user()

    created = execute(client, "Fibonacci", {"iterations": 3}, fields="id name status size queued")

    record = created.json["data"]["executeJob"]
    assert record["name"] == "Fibonacci"
    assert (record["status"], record["size"], record["queued"]) == ("queued", 1, 1)
    stored = stack.sql(
        "SELECT idx, data, max_attempts FROM items WHERE job_id = ?", (record["id"],)
    )
    assert stored == [{"idx": 0, "data": '{"iterations":3}', "max_attempts": 5}]


def test_a_list_is_one_job_of_that_many_items_from_variables_or_literals(stack):
    client = stack.user()

    from_variables = submit(client, "Fibonacci", [{"iterations": n} for n in range(3)])
    inline = client.post(
        'mutation { executeJob(executeJobInput: {name: "Echo",'
        ' data: [{text: "a"}, {text: "b"}]}) { id size items { index status maxAttempts } } }'
    )

    assert job(client, from_variables, "size")["size"] == 3
    record = inline.json["data"]["executeJob"]
    assert record["size"] == 2
    assert record["items"] == [
        {"index": 0, "status": "queued", "maxAttempts": 2},  # Echo's own retry policy
        {"index": 1, "status": "queued", "maxAttempts": 2},
    ]


def test_a_bulk_job_is_stored_whole_and_every_item_is_published(make_stack):
    stack = make_stack(WORKQ_EXECUTOR_PUBLISH_WINDOW="1000")  # the whole job fits the window
    client = stack.user()
    receiver = stack.subscribe("Fibonacci")

    job_id = submit(client, "Fibonacci", [{"iterations": n % 50} for n in range(1000)])

    assert stack.count("items") == 1000
    seen: set[int] = set()
    while len(seen) < 1000:
        delivery = receiver.receive(timeout_s=10)
        assert delivery is not None, f"only {len(seen)} of 1000 messages arrived"
        ref = decode(delivery.payload, delivery.properties)
        assert ref.job_id == job_id
        seen.add(ref.index)
        receiver.ack(delivery)
    assert seen == set(range(1000))
    # the relay deletes its outbox row once the broker confirmed: maybe just after delivery
    wait_for(lambda: stack.count("outbox") == 0, timeout_s=10)


def test_an_unknown_job_name_lists_the_available_names(stack):
    response = execute(stack.user(), "Fibonaci", {"iterations": 1})

    error = response.json["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Echo" in error["message"] and "Fibonacci" in error["message"]
    assert response.json["data"] is None
    assert stack.count("jobs") == 0


def test_a_bad_item_is_named_and_nothing_of_the_request_is_stored_or_published(stack):
    client = stack.user()
    receiver = stack.subscribe("Fibonacci")
    items = [{"iterations": 1}, {"iterations": 2}, {"iterations": "many"}, {"iterations": 4}]

    response = execute(client, "Fibonacci", items)

    error = response.json["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "item": 2, "field": "iterations"}
    assert "item 2" in error["message"] and "iterations" in error["message"]
    assert [stack.count(t) for t in ("jobs", "items", "outbox")] == [0, 0, 0]
    assert receiver.receive(timeout_s=1.0) is None


def test_empty_non_object_and_oversized_data_are_refused(make_stack):
    stack = make_stack(WORKQ_JOBS_MAX_ITEMS="3")
    client = stack.user()

    for data in ([], 5, "text", None, [{"iterations": 1}] * 4, [{"iterations": 1}, 7]):
        response = execute(client, "Fibonacci", data)
        assert response.json["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", data
    assert stack.count("jobs") == 0


def test_non_finite_numbers_are_refused(stack):
    client = stack.user()
    body = '{"query": %s, "variables": {"executeJobInput": {"name": "Fibonacci", "data": %s}}}'
    nan = body % (json.dumps(EXECUTE), '{"iterations": NaN}')
    huge = body % (json.dumps(EXECUTE), '{"iterations": 1e999}')
    inline = (
        'mutation { executeJob(executeJobInput: {name: "Fibonacci",'
        " data: {iterations: 1e999}}) { id } }"
    )

    assert client.post("", raw=nan.encode()).status == 400
    assert client.post("", raw=huge.encode()).code == "BAD_USER_INPUT"
    assert client.post(inline).status == 400
    assert stack.count("jobs") == 0


def test_the_same_idempotency_key_returns_the_same_job(stack):
    client = stack.user()

    first = submit(client, "Fibonacci", [{"iterations": 1}, {"iterations": 2}], key="order-7")
    again = submit(client, "Fibonacci", [{"iterations": 1}, {"iterations": 2}], key="order-7")
    other = execute(client, "Fibonacci", [{"iterations": 1}], key="order-7")
    elsewhere = submit(stack.user(), "Fibonacci", [{"iterations": 1}], key="order-7")

    assert again == first
    error = other.json["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "idempotencyKey",
    )
    assert elsewhere != first  # keys are per user
    assert stack.count("jobs") == 2
    assert stack.count("items") == 3
