"""``workq.AsyncClient``: ``workq.Client`` for asyncio, with ``await`` and ``async for``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from workq import live, operations, schedules, wire
from workq.base import ClientBase, Polling
from workq.errors import Timeout, Unavailable
from workq.live import Conversation
from workq.operations import Operation, QuotaChanges
from workq.schedules import Schedule, ScheduleChanges, ScheduleOptions
from workq.values import Item, ItemEvent, Job, JobTypeLimits, Limit, Quota, User

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

    async def watch(self, job_id: str) -> AsyncIterator[Job]:
        """The job now, then again whenever its counts, status or progress change, until final.

        Pushed over one WebSocket (``jobUpdated``); see ``Client.watch``.
        """
        conversation = self._conversation(live.WATCH, {"id": job_id}, job_id)
        async for data in self._subscription(conversation):
            yield Job.from_dict(data["jobUpdated"])

    async def events(
        self, job_id: str, after: str | None = None, *, reconnects: int = 5
    ) -> AsyncIterator[ItemEvent]:
        """The job's item events after ``after``, then live; see ``Client.events``."""
        resume = live.Resume(job_id, after, reconnects)
        while True:
            conversation = self._conversation(live.EVENTS, resume.variables(), job_id)
            try:
                async for data in self._subscription(conversation):
                    yield resume.seen(data)
                return
            except Unavailable as exc:
                await asyncio.sleep(resume.pause_after(exc))

    async def cancel(self, job_id: str) -> Job:
        """Cancel queued and retrying items; running ones finish their current attempt."""
        return await self._run(operations.cancel(job_id))

    async def retry_dead(self, job_id: str) -> Job:
        """Run the dead items again with fresh attempts; BadInput if the job was cancelled."""
        return await self._run(operations.retry_dead(job_id))

    # --- schedules (docs/schedules.md) ------------------------------------------

    async def create_schedule(
        self,
        name: str,
        job_type: str,
        data: dict[str, Any] | list[dict[str, Any]],
        **options: Unpack[ScheduleOptions],
    ) -> Schedule:
        """A schedule that submits ``data`` as one job at each run (``ScheduleOptions``: when).

        Anything invalid is refused, and nothing stored, with ``BadInput``
        naming the field (and the item).
        """
        return await self._run(schedules.create(name, job_type, data, options))

    async def schedule(self, schedule_id: str) -> Schedule:
        """The schedule as of now; ScheduleNotFound when it does not exist or is someone else's."""
        return await self._run(schedules.one(schedule_id))

    async def schedules(self, *, page_size: int = 100) -> AsyncIterator[Schedule]:
        """Your schedules (an admin's: everyone's), oldest first, a page at a time."""
        offset = 0
        while True:
            page = await self._run(schedules.page(page_size, offset))
            for value in page:
                yield value
            if len(page) < page_size:
                return
            offset += len(page)

    async def update_schedule(
        self, schedule_id: str, **changes: Unpack[ScheduleChanges]
    ) -> Schedule:
        """Change the given fields; the others keep their value."""
        return await self._run(schedules.update(schedule_id, changes))

    async def pause_schedule(self, schedule_id: str) -> Schedule:
        """Stop firing it until resumed."""
        return await self._run(schedules.set_paused(schedule_id, True))

    async def resume_schedule(self, schedule_id: str) -> Schedule:
        """Fire it again from its first run after now (runs in the pause are not caught up)."""
        return await self._run(schedules.set_paused(schedule_id, False))

    async def delete_schedule(self, schedule_id: str) -> None:
        """Delete it; the jobs it submitted stay."""
        await self._run(schedules.delete(schedule_id))

    # --- limits and quotas (docs/limits.md, docs/quotas.md) ---------------------

    async def limits(self, job_type: str | None = None) -> list[JobTypeLimits]:
        """The limits in force for every job type, or only ``job_type``."""
        return await self._run(operations.limits(job_type))

    async def set_limits(self, job_type: str, limits: list[Limit] | None) -> JobTypeLimits:
        """Admins: replace ``job_type``'s limits for all executors; None: back to declared."""
        return await self._run(operations.set_limits(job_type, limits))

    async def my_quota(self) -> Quota:
        """Your submission quotas, and how much of them you use now."""
        return await self._run(operations.my_quota())

    async def user_quota(self, email: str) -> Quota:
        """Admins: the quotas of the user with ``email``."""
        return await self._run(operations.user_quota(email))

    async def set_user_quota(self, email: str, **changes: Unpack[QuotaChanges]) -> Quota:
        """Admins: give the user with ``email`` quotas of their own (None: the configured one)."""
        return await self._run(operations.set_user_quota(email, changes))

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

    async def _subscription(self, conversation: Conversation) -> AsyncIterator[dict[str, Any]]:
        """Each ``next`` payload's data, on a WebSocket of its own, until ``complete``."""
        url = conversation.url
        try:
            async with connect(
                url,
                subprotocols=[live.PROTOCOL],
                open_timeout=self.timeout_s,
            ) as ws:
                await ws.send(conversation.opening())
                while True:
                    try:
                        reply = conversation.receive(await ws.recv())
                        if reply.send is not None:
                            await ws.send(reply.send)
                    except ConnectionClosed as closed:
                        raise conversation.closed(closed) from None
                    if reply.data is not None:
                        yield reply.data
                    if reply.done:
                        return
        except InvalidStatus as exc:
            raise live.not_served(url, f"HTTP {exc.response.status_code}") from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise wire.unreachable(url, exc) from None

    async def _post(self, url: str, op: Operation[Any]) -> httpx.Response:
        try:
            response: httpx.Response = await self._http.post(
                url, json=op.body, headers=self._headers()
            )
        except httpx.HTTPError as exc:
            raise wire.transport_error(exc, url) from exc
        return response
