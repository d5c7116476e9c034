"""``workq.AsyncClient``: ``workq.Client`` for asyncio, with ``await`` and ``async for``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from workq import operations, wire
from workq.base import ClientBase, Polling
from workq.errors import Timeout
from workq.operations import Operation
from workq.values import Item, Job, User

T = TypeVar("T")


class AsyncClient(ClientBase[httpx.AsyncClient]):
    """The same methods as ``Client``, as coroutines and async iterators.

    One instance keeps one connection pool, used from one event loop: reuse it
    and ``await close()`` it, or use ``async with``.
    """

    def _connect(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(**options)

    # --- auth service -----------------------------------------------------------

    async def login(self, email: str, password: str) -> str:
        """Log in; the client keeps the token (``client.token``) and returns it, to save."""
        op = operations.login(email, password)
        url = self._url(op)
        response = await self._post(url, op)
        wire.result(response, url, op)
        self.token = wire.login_token(response, url)
        return self.token

    async def logout(self) -> None:
        """Revoke every token of this user (other clients' too) and forget ours."""
        await self._run(operations.logout())
        self.token = None

    async def create_user(self, email: str, password: str) -> User:
        """Sign up; BadInput (field ``email``) when that email is taken or invalid."""
        return await self._run(operations.create_user(email, password))

    # --- jobs service -----------------------------------------------------------

    async def submit(
        self,
        job_type: str,
        data: dict[str, Any] | list[dict[str, Any]],
        idempotency_key: str | None = None,
        *,
        run_at: dt.datetime | str | None = None,
        delay_ms: int | None = None,
        priority: int | None = None,
    ) -> Job:
        """Submit one job: a dict is one item, a list of dicts one item each.

        With ``idempotency_key``, submitting again returns the job the first
        call created: a submission that failed with ``Unavailable`` is safe to
        retry. A bad item is refused, and nothing stored, with ``BadInput``
        whose ``item`` and ``field`` say where. ``run_at`` (an aware datetime
        or ISO-8601 text with an offset) or ``delay_ms`` holds every item back
        until then (the job is ``scheduled``); ``priority`` (-10 to 10, default
        0) puts it ahead of waiting jobs of its type with a lower one.
        """
        order = operations.queue_order(run_at, delay_ms, priority)
        return await self._run(operations.submit(job_type, data, idempotency_key, order))

    async def job(self, job_id: str) -> Job:
        """The job as of now; JobNotFound when it does not exist or is someone else's."""
        return await self._run(operations.job(job_id))

    async def jobs(
        self, status: str | None = None, job_type: str | None = None, *, page_size: int = 20
    ) -> AsyncIterator[Job]:
        """Your jobs, newest first, fetched a page (at most 100) at a time as you iterate."""
        after = None
        while True:
            page, after = await self._run(operations.jobs_page(status, job_type, page_size, after))
            for value in page:
                yield value
            if after is None:
                return

    async def items(
        self, job_id: str, status: str | None = None, *, page_size: int = 100
    ) -> AsyncIterator[Item]:
        """The job's items in index order, with results, a page (at most 1000) at a time.

        Pages are by position, so with a ``status`` filter an item that changes
        state while you iterate may be skipped or seen twice; once the job is
        ``done`` the iteration is exact.
        """
        offset = 0
        while True:
            page = await self._run(operations.items_page(job_id, status, page_size, offset))
            for value in page:
                yield value
            if len(page) < page_size or not page:
                return
            offset += len(page)

    async def wait(self, job_id: str, timeout_s: float | None, *, poll_s: float = 1.0) -> Job:
        """Poll until the job is ``done`` and return it; ``Timeout`` after ``timeout_s``.

        ``timeout_s=None`` waits as long as it takes. Polls come quickly at
        first, then every ``poll_s`` seconds.
        """
        polling = Polling(timeout_s, poll_s)
        while not (job := await self.job(job_id)).done:
            pause = polling.pause()
            if pause is None:
                raise Timeout(job, timeout_s or 0.0)
            await asyncio.sleep(pause)
        return job

    async def cancel(self, job_id: str) -> Job:
        """Cancel queued and retrying items; running ones finish their current attempt."""
        return await self._run(operations.cancel(job_id))

    async def retry_dead(self, job_id: str) -> Job:
        """Run the dead items again with fresh attempts; BadInput if the job was cancelled."""
        return await self._run(operations.retry_dead(job_id))

    async def execute(
        self, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Any GraphQL document against the jobs service; the answer's ``data``."""
        return await self._run(operations.document(document, variables))

    # --- plumbing ---------------------------------------------------------------

    async def close(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self, op: Operation[T]) -> T:
        url = self._url(op)
        return wire.result(await self._post(url, op), url, op)

    async def _post(self, url: str, op: Operation[Any]) -> httpx.Response:
        try:
            response: httpx.Response = await self._http.post(
                url, json=op.body, headers=self._headers()
            )
        except httpx.HTTPError as exc:
            raise wire.transport_error(exc, url) from exc
        return response
