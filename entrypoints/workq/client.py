"""``workq.Client``: the Workq API from Python, over one pooled keep-alive HTTP client."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from workq import operations, wire
from workq.base import ClientBase, Polling
from workq.errors import Timeout
from workq.operations import Operation
from workq.values import Item, Job, User

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

    def cancel(self, job_id: str) -> Job:
        """Cancel queued and retrying items; running ones finish their current attempt."""
        return self._run(operations.cancel(job_id))

    def retry_dead(self, job_id: str) -> Job:
        """Run the dead items again with fresh attempts; BadInput if the job was cancelled."""
        return self._run(operations.retry_dead(job_id))

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

    def _post(self, url: str, op: Operation[Any]) -> httpx.Response:
        try:
            response: httpx.Response = self._http.post(url, json=op.body, headers=self._headers())
        except httpx.HTTPError as exc:
            raise wire.transport_error(exc, url) from exc
        return response
