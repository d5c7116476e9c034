"""Dead letters exactly once: an executor killed inside the dead-letter path sends none twice.

The executor process dies at a named fault point (workq_core.faults): after
the dead letters are in the DLQ but before the database records them, or
after the record but before the messages are acked. A replacement executor
then finishes; the DLQ must hold each item once and the database must say
each was dead-lettered.
"""

from __future__ import annotations

import json
import signal

import pytest

from tests.executor.conftest import wait_for
from tests.executor.test_executor_process import start_executor_process
from tests.support.brokers import GENUINE, LITE
from workq_core.faults import AFTER_DEAD_LETTER_PUBLISH, AFTER_DEAD_LETTER_RECORD

pytestmark = pytest.mark.e2e

ITEMS = 3

# Each point on both brokers, the databases crossed (four runs, not eight).
CASES = [
    pytest.param(AFTER_DEAD_LETTER_PUBLISH, LITE, "sqlite", id="publish-lite-sqlite"),
    pytest.param(AFTER_DEAD_LETTER_PUBLISH, GENUINE, "postgres", id="publish-pulsar-postgres"),
    pytest.param(AFTER_DEAD_LETTER_RECORD, LITE, "postgres", id="record-lite-postgres"),
    pytest.param(AFTER_DEAD_LETTER_RECORD, GENUINE, "sqlite", id="record-pulsar-sqlite"),
]


def dead_letters(pipeline) -> list[int]:
    """The item indices of every message in the Fibonacci DLQ, read to its end."""
    dlq = pipeline.transport.subscribe_dead_letters(["Fibonacci"])
    found = []
    try:
        while (delivery := dlq.receive(1.5)) is not None:
            found.append(json.loads(delivery.payload)["index"])
            dlq.ack(delivery)
    finally:
        dlq.close()
    return sorted(found)


@pytest.mark.parametrize(
    ("point", "broker", "database_url"), CASES, indirect=["broker", "database_url"]
)
def test_an_executor_killed_in_the_dead_letter_path_sends_each_once(make_pipeline, point):
    # Given items the executor will find invalid (stored without the API's validation): dead at once
    pipeline = make_pipeline(WORKQ_EXECUTOR_LEASE_S="1")  # a dead item's lease: while it is sent
    pipeline.start_relay()
    job_id = pipeline.submit("Fibonacci", [{"iterations": "many"}] * ITEMS, max_attempts=3)

    # When the executor dies at the fault point
    doomed = start_executor_process(pipeline, "--threads", "1", env={"WORKQ_FAULT_POINT": point})
    assert doomed.wait(60) == 137, "the executor did not reach the fault point"
    recorded = [i["idx"] for i in pipeline.items(job_id) if i["dead_lettered_at"] is not None]
    if point == AFTER_DEAD_LETTER_PUBLISH:
        assert recorded == [], "died before recording, yet recorded"
    else:
        assert recorded, "died after recording, yet nothing recorded"

    # and a replacement finishes the job
    replacement = start_executor_process(pipeline)
    try:
        wait_for(lambda: all(i["dead_lettered_at"] for i in pipeline.items(job_id)), 60)
    finally:
        replacement.send_signal(signal.SIGTERM)
        replacement.wait(30)

    # Then every item is dead after one attempt, recorded, and in the DLQ exactly once
    items = pipeline.items(job_id)
    assert [(i["status"], i["attempts"]) for i in items] == [("dead", 1)] * ITEMS
    assert dead_letters(pipeline) == list(range(ITEMS))
