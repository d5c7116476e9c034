"""Schedules from Python, sync and asyncio, on a real ``workq up`` stack (its scheduler fires)."""

from __future__ import annotations

import asyncio
import time

import pytest

import workq
from tests.client.conftest import PASSWORD, Running, fibonacci


def test_a_schedule_fires_under_workq_up_and_its_jobs_complete(client: workq.Client) -> None:
    # Given a schedule every second
    schedule = client.create_schedule(
        "fib-every-second", "Fibonacci", {"iterations": 10}, interval_s=1, overlap="ALLOW"
    )
    assert (schedule.interval_s, schedule.cron, schedule.runs) == (1, None, 0)

    # When a run has fired
    deadline = time.monotonic() + 10
    while (current := client.schedule(schedule.id)).last_job_id is None:
        assert time.monotonic() < deadline, "no run within 10 s"
        time.sleep(0.1)

    # Then its job is the owner's, and the executor completes it
    job = client.wait(current.last_job_id, timeout_s=30)
    assert job.status == "completed" and job.type == "Fibonacci"
    assert [item.result for item in client.items(job.id)] == [{"value": fibonacci(10)}]
    assert current.last_run_at is not None and current.runs >= 1
    assert job.id in {j.id for j in client.jobs(job_type="Fibonacci")}
    client.delete_schedule(schedule.id)


def test_list_pause_resume_update_delete(client: workq.Client) -> None:
    nightly = client.create_schedule(
        "nightly", "Fibonacci", [{"iterations": 1}], cron="0 3 * * *", timezone="Europe/Berlin"
    )
    listed = list(client.schedules(page_size=1))
    paused = client.pause_schedule(nightly.id)
    resumed = client.resume_schedule(nightly.id)
    moved = client.update_schedule(nightly.id, cron="30 4 * * *", missed_runs="RUN_ALL")
    client.delete_schedule(nightly.id)

    assert [s.name for s in listed] == ["nightly"]
    assert (nightly.timezone, nightly.missed_runs, nightly.overlap) == (
        "Europe/Berlin",
        "RUN_ONCE",
        "SKIP",
    )
    assert nightly.next_run_at.tzinfo is not None
    assert paused.paused and not resumed.paused
    assert (moved.cron, moved.timezone, moved.missed_runs) == (
        "30 4 * * *",
        "Europe/Berlin",
        "RUN_ALL",
    )
    with pytest.raises(workq.ScheduleNotFound) as missing:
        client.schedule(nightly.id)
    assert missing.value.schedule_id == nightly.id
    with pytest.raises(workq.ScheduleNotFound):
        client.pause_schedule(nightly.id)


def test_bad_input_is_bad_input_naming_the_field(client: workq.Client) -> None:
    with pytest.raises(workq.BadInput) as bad_cron:
        client.create_schedule("x", "Fibonacci", {"iterations": 1}, cron="0 0 32 * *")
    with pytest.raises(workq.BadInput) as bad_item:
        client.create_schedule("x", "Fibonacci", [{"iterations": -1}], interval_s=60)
    with pytest.raises(TypeError, match="unknown schedule field"):
        client.update_schedule("00000000-0000-0000-0000-000000000000", every="day")

    assert bad_cron.value.field == "cron" and "Bad day-of-month" in bad_cron.value.message
    assert (bad_item.value.item, bad_item.value.field) == (0, "iterations")
    assert list(client.schedules()) == []


def test_the_async_client_has_the_same_calls(running: Running, email: str) -> None:
    async def main() -> tuple[workq.Schedule, list[str], workq.Schedule]:
        async with workq.AsyncClient(running.jobs_url, running.auth_url) as client:
            await client.login(email, PASSWORD)
            made = await client.create_schedule(
                "hourly", "Fibonacci", {"iterations": 2}, cron="0 * * * *", paused=True
            )
            names = [s.name async for s in client.schedules()]
            resumed = await client.resume_schedule(made.id)
            await client.update_schedule(made.id, name="hourly-2")
            assert (await client.schedule(made.id)).name == "hourly-2"
            await client.delete_schedule(made.id)
            with pytest.raises(workq.ScheduleNotFound):
                await client.schedule(made.id)
            return made, names, resumed

    made, names, resumed = asyncio.run(main())
    assert made.paused and not resumed.paused and names == ["hourly"]
