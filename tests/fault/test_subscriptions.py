"""The jobs service SIGKILLed under a ``jobEvents`` subscription (docs/live-updates.md).

A client reading ``workq.Client.events`` reconnects after its last cursor
when the connection drops. Killed and restarted on the same port while a
job runs, the service must hand the client every event of the job exactly
once and in log order: the client's list equals the ``item_events`` table
read in ``(txid, id)`` order.
"""

from __future__ import annotations

import threading
import time

import pytest

import workq
from tests.fault.harness import Stack, wait_until
from tests.fault.test_scenarios import assert_history_ok, final

pytestmark = pytest.mark.e2e

SHORT = {"items": 60, "kills": 1, "drain_s": 120}
HEAVY = {"items": 800, "kills": 4, "drain_s": 300}
SCALES = [pytest.param(SHORT, id="short"), pytest.param(HEAVY, id="heavy", marks=pytest.mark.heavy)]
FINAL_KINDS = ("succeeded", "dead")
RECONNECTS = 10  # a restarted service is back within a few seconds; the pauses add up to ~40 s


class EventReader:
    """``Client.events`` in a thread until every item's final event came; what it saw."""

    def __init__(self, stack: Stack, job_id: str, size: int) -> None:
        self.stack, self.job_id, self.size = stack, job_id, size
        self.events: list[workq.ItemEvent] = []
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        final: set[int] = set()
        try:
            with workq.Client(self.stack.jobs_url, token=self.stack.token) as client:
                for event in client.events(self.job_id, reconnects=RECONNECTS):
                    self.events.append(event)
                    if event.kind in FINAL_KINDS:
                        final.add(event.item_index)
                    if len(final) == self.size:
                        return
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc
        finally:
            self.finished.set()


def logged_cursors(stack: Stack, job_id: str) -> list[str]:
    found = stack.sql(
        "SELECT txid, id FROM item_events WHERE job_id = %s ORDER BY txid, id", (job_id,)
    )
    return [f"{txid}.{id_}" for txid, id_ in found]


@pytest.mark.parametrize("scale", SCALES)
def test_jobs_service_killed_during_a_subscription_the_client_resumes_losing_nothing(
    make_stack, scale
):
    # Given a client following a running job's item events
    stack = make_stack(executors=2)
    job = stack.submit(scale["items"], poison_every=20, sleep_ms=150)
    reader = EventReader(stack, job.job_id, job.size)

    # When the jobs service is SIGKILLed while events flow, and restarted on its port
    for n in range(scale["kills"]):
        seen = len(reader.events)
        wait_until(lambda s=seen: len(reader.events) > s + 10, 60, f"events before kill {n + 1}")
        stack.kill(stack.jobs)
        assert final(stack) < job.size, "the job finished before the kill"
        time.sleep(0.5)
        stack.start_jobs()
    stack.drain(scale["drain_s"])

    # Then the client received every event of the log exactly once, in log order
    assert reader.finished.wait(60), f"the client saw {len(reader.events)} events, then stalled"
    assert reader.error is None, repr(reader.error)
    received = [event.cursor for event in reader.events]
    logged = logged_cursors(stack, job.job_id)
    assert len(received) == len(set(received)), "an event was delivered twice"
    assert received == logged, f"client {len(received)} events, log {len(logged)}"
    print(f"\nevents received across {scale['kills']} kills: {len(received)}")
    assert_history_ok(stack)
