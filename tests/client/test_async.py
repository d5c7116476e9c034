"""``workq.AsyncClient``, the asyncio twin, on the main path and its errors, on a real stack."""

from __future__ import annotations

import asyncio

import pytest

import workq
from tests.client.conftest import PASSWORD, Running, fibonacci, nowhere


def test_log_in_submit_wait_and_read_results(running: Running, email: str) -> None:
    async def main() -> tuple[list[workq.Job], list[workq.Item], list[str], workq.Job]:
        async with workq.AsyncClient(running.jobs_url, running.auth_url) as client:
            await client.login(email, PASSWORD)
            # When three jobs are submitted and waited for together
            jobs = [
                await client.submit("Fibonacci", [{"iterations": n}, {"iterations": n + 1}])
                for n in (10, 20, 30)
            ]
            same = await client.submit("Fibonacci", {"iterations": 1}, idempotency_key="a-1")
            again = await client.submit("Fibonacci", {"iterations": 1}, idempotency_key="a-1")
            assert same.id == again.id
            done = await asyncio.gather(*(client.wait(j.id, timeout_s=30) for j in jobs))
            items = [item async for item in client.items(jobs[2].id, page_size=1)]
            listed = [job.id async for job in client.jobs(page_size=2)]
            cancelled = await client.cancel(jobs[0].id)
            return list(done), items, listed, cancelled

    done, items, listed, cancelled = asyncio.run(main())

    # Then each completed, the items come page by page with results, the listing newest first
    assert [(job.status, job.completed) for job in done] == [("completed", 2)] * 3
    assert [(i.index, i.result["value"]) for i in items] == [(0, fibonacci(30)), (1, fibonacci(31))]
    assert len(listed) == 4 and listed[1:] == [job.id for job in done][::-1]
    assert cancelled.id == done[0].id and cancelled.cancelled == 0


def test_errors_are_the_same_typed_errors(running: Running, email: str) -> None:
    async def main() -> None:
        async with workq.AsyncClient(running.jobs_url, running.auth_url) as client:
            with pytest.raises(workq.Unauthenticated):
                await client.login(email, "not-the-password")
            with pytest.raises(workq.Unauthenticated):
                await client.job("00000000-0000-4000-8000-000000000000")
            await client.login(email, PASSWORD)
            with pytest.raises(workq.BadInput) as refused:
                await client.submit("Fibonacci", [{"iterations": 1}, {"iterations": -1}])
            assert (refused.value.item, refused.value.field) == (1, "iterations")
            with pytest.raises(workq.JobNotFound):
                [item async for item in client.items("00000000-0000-4000-8000-000000000000")]
            job = await client.submit("Sleep", {"seconds": 1})
            with pytest.raises(workq.Timeout, match=f"job {job.id} is still"):
                await client.wait(job.id, timeout_s=0.2, poll_s=0.05)
            retried = await client.retry_dead(job.id)
            assert retried.dead == 0
        async with workq.AsyncClient(nowhere(), token="any") as down:
            with pytest.raises(workq.Unreachable):
                await down.execute("{ __typename }")

    asyncio.run(main())


def test_submit_takes_a_delay_and_a_priority(running: Running, email: str) -> None:
    async def main() -> tuple[workq.Job, list[workq.Item]]:
        async with workq.AsyncClient(running.jobs_url, running.auth_url) as client:
            await client.login(email, PASSWORD)
            job = await client.submit(
                "Fibonacci", {"iterations": 1}, delay_ms=3_600_000, priority=2
            )
            items = [item async for item in client.items(job.id)]
            await client.cancel(job.id)
            return job, items

    job, [item] = asyncio.run(main())

    assert (job.status, job.priority) == ("scheduled", 2)
    assert item.waiting_for is not None and item.waiting_for.until == job.run_at
