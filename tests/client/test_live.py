"""``watch`` and ``events``: jobs and item events pushed over WebSocket, sync and asyncio."""

from __future__ import annotations

import asyncio

import pytest

import workq
from tests.client.conftest import PASSWORD, Running
from workq import live


def _final_indexes(events: list[workq.ItemEvent]) -> set[int]:
    return {e.item_index for e in events if e.kind in ("succeeded", "dead")}


def test_watch_yields_the_job_as_it_moves_and_ends_when_final(client: workq.Client) -> None:
    job = client.submit("Sleep", [{"seconds": 0.2}] * 3)
    seen = list(client.watch(job.id))
    assert seen[-1].status == "completed" and seen[-1].completed == 3
    assert all(not j.done for j in seen[:-1])
    finished = [j.completed for j in seen]
    assert finished == sorted(finished)


def test_events_resume_after_a_cursor_without_gaps_or_repeats(client: workq.Client) -> None:
    # Given a job whose events one reader reads in part
    job = client.submit("Sleep", [{"seconds": 0.05}] * 4)
    first: list[workq.ItemEvent] = []
    for event in client.events(job.id):
        first.append(event)
        if len(first) == 3:
            break
    # When another reads on from the last cursor until every item is final
    rest: list[workq.ItemEvent] = []
    for event in client.events(job.id, after=first[-1].cursor):
        rest.append(event)
        if len(_final_indexes(first + rest)) == 4:
            break
    # Then the two parts are exactly the whole stream
    whole: list[workq.ItemEvent] = []
    for event in client.events(job.id):
        whole.append(event)
        if len(whole) == len(first) + len(rest):
            break
    assert first + rest == whole
    assert [e.kind for e in whole if e.item_index == 0] == ["started", "succeeded"]
    assert whole[0].progress is None and whole[0].at.tzinfo is not None


def test_someone_elses_job_and_a_bad_token_are_the_usual_errors(
    running: Running, client: workq.Client
) -> None:
    job = client.submit("Fibonacci", {"iterations": 1})
    with workq.Client(running.jobs_url, running.auth_url) as other:
        other.create_user(f"x{job.id[:8]}@example.com", PASSWORD)
        other.login(f"x{job.id[:8]}@example.com", PASSWORD)
        with pytest.raises(workq.JobNotFound):
            next(other.watch(job.id))
    with (
        workq.Client(running.jobs_url, token="forged") as forged,
        pytest.raises(workq.Unauthenticated, match="4403"),
    ):
        next(forged.events(job.id))


def test_the_async_twins_watch_and_read_events(running: Running, email: str) -> None:
    async def main() -> tuple[list[workq.Job], list[workq.ItemEvent]]:
        async with workq.AsyncClient(running.jobs_url, running.auth_url) as client:
            await client.login(email, PASSWORD)
            job = await client.submit("Sleep", [{"seconds": 0.1}] * 2)
            seen = [j async for j in client.watch(job.id)]
            events: list[workq.ItemEvent] = []
            async for event in client.events(job.id):
                events.append(event)
                if len(_final_indexes(events)) == 2:
                    break
            return seen, events

    seen, events = asyncio.run(main())
    assert seen[-1].status == "completed"
    assert sorted(e.kind for e in events) == ["started", "started", "succeeded", "succeeded"]


def test_events_open_again_after_the_last_cursor_a_bounded_number_of_times() -> None:
    resume = live.Resume("job-1", None, reconnects=2)
    event = {
        "cursor": "0.7",
        "kind": "STARTED",
        "itemIndex": 0,
        "attempt": 1,
        "at": "2026-01-02T03:04:05.678Z",
        "detail": None,
        "progress": None,
    }
    assert resume.seen({"jobEvents": event}).cursor == "0.7"
    assert resume.variables() == {"id": "job-1", "after": "0.7"}
    dropped = workq.Unavailable("dropped")
    assert [resume.pause_after(dropped), resume.pause_after(dropped)] == [0.4, 0.8]
    with pytest.raises(workq.Unavailable, match="dropped"):
        resume.pause_after(dropped)
    resume.seen({"jobEvents": {**event, "cursor": "0.9"}})  # an event resets the count
    assert resume.pause_after(dropped) == 0.4
