"""``workq.Client``: the Workq API from Python, over one pooled keep-alive HTTP client."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from workq import live, operations, schedules, wire
from workq.base import ClientBase, Polling
from workq.errors import Timeout, Unavailable
from workq.live import Conversation
from workq.operations import Operation, QuotaChanges
from workq.schedules import Schedule, ScheduleChanges, ScheduleOptions
from workq.values import Item, ItemEvent, Job, JobTypeLimits, Limit, Quota, User

T = TypeVar("T")


class Client(ClientBase[httpx.Client]):
    """Log in, submit jobs and follow them; every failure is a ``WorkqClientError``.

    ``Client(jobs_url, auth_url=None, *, token=None, timeout_s=30.0)``: the
    auth URL is needed only to ``login``, ``logout`` or ``create_user``; a
    saved ``token`` is enough for the rest. One instance keeps one connection
    pool: reuse it (threads may share it) and ``close()`` it, or use ``with``.
    """

    def _connect(self, **options: Any) -> httpx.Client:
        return httpx.Client(**options)

    # --- auth service -----------------------------------------------------------

    def login(self, email: str, password: str) -> str:
        """Log in; the client keeps the token (``client.token``) and returns it, to save."""
        op = operations.login(email, password)
        url = self._url(op)
        response = self._post(url, op)
        wire.result(response, url, op)
        self.token = wire.login_token(response, url)
        return self.token

    def logout(self) -> None:
        """Revoke every token of this user (other clients' too) and forget ours."""
        self._run(operations.logout())
        self.token = None

    def create_user(self, email: str, password: str) -> User:
        """Sign up; BadInput (field ``email``) when that email is taken or invalid."""
        return self._run(operations.create_user(email, password))

    # --- jobs service -----------------------------------------------------------

    def submit(
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
        return self._run(operations.submit(job_type, data, idempotency_key, order))

    def job(self, job_id: str) -> Job:
        """The job as of now; JobNotFound when it does not exist or is someone else's."""
        return self._run(operations.job(job_id))

    def jobs(
        self, status: str | None = None, job_type: str | None = None, *, page_size: int = 20
    ) -> Iterator[Job]:
        """Your jobs, newest first, fetched a page (at most 100) at a time as you iterate."""
        after = None
        while True:
            page, after = self._run(operations.jobs_page(status, job_type, page_size, after))
            yield from page
            if after is None:
                return

    def items(
        self, job_id: str, status: str | None = None, *, page_size: int = 100
    ) -> Iterator[Item]:
        """The job's items in index order, with results, a page (at most 1000) at a time.

        Pages are by position, so with a ``status`` filter an item that changes
        state while you iterate may be skipped or seen twice; once the job is
        ``done`` the iteration is exact.
        """
        offset = 0
        while True:
            page = self._run(operations.items_page(job_id, status, page_size, offset))
            yield from page
            if len(page) < page_size or not page:
                return
            offset += len(page)

    def wait(self, job_id: str, timeout_s: float | None, *, poll_s: float = 1.0) -> Job:
        """Poll until the job is ``done`` and return it; ``Timeout`` after ``timeout_s``.

        ``timeout_s=None`` waits as long as it takes. Polls come quickly at
        first, then every ``poll_s`` seconds.
        """
        polling = Polling(timeout_s, poll_s)
        while not (job := self.job(job_id)).done:
            pause = polling.pause()
            if pause is None:
                raise Timeout(job, timeout_s or 0.0)
            time.sleep(pause)
        return job

    def watch(self, job_id: str) -> Iterator[Job]:
        """The job now, then again whenever its counts, status or progress change, until final.

        Pushed by the service over one WebSocket (the ``jobUpdated``
        subscription): nothing is polled. The iteration ends after the job
        is ``done``; JobNotFound if it is not yours.
        """
        conversation = self._conversation(live.WATCH, {"id": job_id}, job_id)
        for data in self._subscription(conversation):
            yield Job.from_dict(data["jobUpdated"])

    def events(
        self, job_id: str, after: str | None = None, *, reconnects: int = 5
    ) -> Iterator[ItemEvent]:
        """The job's item events after the cursor ``after`` (from the first without it), then live.

        It does not end by itself: break out when you have what you need. A
        dropped connection is opened again after the last event's cursor, up
        to ``reconnects`` times in a row, so no event is missed or repeated;
        to resume later yourself, pass the last ``event.cursor`` as ``after``.
        """
        resume = live.Resume(job_id, after, reconnects)
        while True:
            conversation = self._conversation(live.EVENTS, resume.variables(), job_id)
            try:
                for data in self._subscription(conversation):
                    yield resume.seen(data)
                return
            except Unavailable as exc:
                time.sleep(resume.pause_after(exc))

    def cancel(self, job_id: str) -> Job:
        """Cancel queued and retrying items; running ones finish their current attempt."""
        return self._run(operations.cancel(job_id))

    def retry_dead(self, job_id: str) -> Job:
        """Run the dead items again with fresh attempts; BadInput if the job was cancelled."""
        return self._run(operations.retry_dead(job_id))

    # --- schedules (docs/schedules.md) ------------------------------------------

    def create_schedule(
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
        return self._run(schedules.create(name, job_type, data, options))

    def schedule(self, schedule_id: str) -> Schedule:
        """The schedule as of now; ScheduleNotFound when it does not exist or is someone else's."""
        return self._run(schedules.one(schedule_id))

    def schedules(self, *, page_size: int = 100) -> Iterator[Schedule]:
        """Your schedules (an admin's: everyone's), oldest first, a page at a time."""
        offset = 0
        while True:
            page = self._run(schedules.page(page_size, offset))
            yield from page
            if len(page) < page_size:
                return
            offset += len(page)

    def update_schedule(self, schedule_id: str, **changes: Unpack[ScheduleChanges]) -> Schedule:
        """Change the given fields; the others keep their value."""
        return self._run(schedules.update(schedule_id, changes))

    def pause_schedule(self, schedule_id: str) -> Schedule:
        """Stop firing it until resumed."""
        return self._run(schedules.set_paused(schedule_id, True))

    def resume_schedule(self, schedule_id: str) -> Schedule:
        """Fire it again from its first run after now (runs in the pause are not caught up)."""
        return self._run(schedules.set_paused(schedule_id, False))

    def delete_schedule(self, schedule_id: str) -> None:
        """Delete it; the jobs it submitted stay."""
        self._run(schedules.delete(schedule_id))

    # --- limits and quotas (docs/limits.md, docs/quotas.md) ---------------------

    def limits(self, job_type: str | None = None) -> list[JobTypeLimits]:
        """The limits in force for every job type, or only ``job_type``."""
        return self._run(operations.limits(job_type))

    def set_limits(self, job_type: str, limits: list[Limit] | None) -> JobTypeLimits:
        """Admins: replace ``job_type``'s limits for all executors; None: back to declared.

        ``Forbidden`` for a user who is not an admin, ``BadInput`` (field ``limits``)
        for a limit the server refuses.
        """
        return self._run(operations.set_limits(job_type, limits))

    def my_quota(self) -> Quota:
        """Your submission quotas, and how much of them you use now."""
        return self._run(operations.my_quota())

    def user_quota(self, email: str) -> Quota:
        """Admins: the quotas of the user with ``email``; ``Forbidden`` for anyone else.

        ``BadInput`` (field ``email``) when no user has that email.
        """
        return self._run(operations.user_quota(email))

    def set_user_quota(self, email: str, **changes: Unpack[QuotaChanges]) -> Quota:
        """Admins: give the user with ``email`` quotas of their own, from their next submission.

        ``items_per_minute=N`` / ``items_waiting=N`` set one (0 is unlimited),
        ``=None`` goes back to the configured one, a keyword left out keeps its
        value. ``BadInput`` names the field the server refuses (``email``,
        ``items_per_minute``, ``items_waiting``); ``Forbidden`` for a non-admin.
        """
        return self._run(operations.set_user_quota(email, changes))

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Any GraphQL document against the jobs service; the answer's ``data``."""
        return self._run(operations.document(document, variables))

    # --- plumbing ---------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, op: Operation[T]) -> T:
        url = self._url(op)
        return wire.result(self._post(url, op), url, op)

    def _subscription(self, conversation: Conversation) -> Iterator[dict[str, Any]]:
        """Each ``next`` payload's data, on a WebSocket of its own, until ``complete``."""
        url = conversation.url
        try:
            with connect(url, subprotocols=[live.PROTOCOL], open_timeout=self.timeout_s) as ws:
                ws.send(conversation.opening())
                while True:
                    try:
                        reply = conversation.receive(ws.recv())
                        if reply.send is not None:
                            ws.send(reply.send)
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

    def _post(self, url: str, op: Operation[Any]) -> httpx.Response:
        try:
            response: httpx.Response = self._http.post(url, json=op.body, headers=self._headers())
        except httpx.HTTPError as exc:
            raise wire.transport_error(exc, url) from exc
        return response
