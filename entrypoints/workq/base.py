"""What ``Client`` and ``AsyncClient`` share: where each call goes, the token, when to poll."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

import httpx

from workq import live, wire
from workq.live import Conversation
from workq.operations import Operation

DEFAULT_TIMEOUT_S = 30.0
FIRST_POLL_S = 0.05

H = TypeVar("H", httpx.Client, httpx.AsyncClient)


class ClientBase(ABC, Generic[H]):
    """The endpoints, the bearer token (from ``login``, or given) and the pooled httpx client."""

    def __init__(
        self,
        jobs_url: str,
        auth_url: str | None = None,
        *,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.jobs_url = jobs_url
        self.auth_url = auth_url
        self.token = token
        self.timeout_s = timeout_s
        self._http: H = self._connect(
            timeout=timeout_s, cookies=wire.no_cookies(), headers=wire.HEADERS
        )

    @abstractmethod
    def _connect(self, **options: Any) -> H:
        """The one httpx client of this instance; it keeps connections alive between calls."""

    def _url(self, op: Operation[Any]) -> str:
        if op.service == "jobs":
            return self.jobs_url
        if self.auth_url is None:
            raise ValueError(f"{type(self).__name__} was made without auth_url; it cannot log in")
        return self.auth_url

    def _headers(self) -> dict[str, str]:
        return wire.bearer(self.token)

    def _conversation(self, document: str, variables: dict[str, Any], job_id: str) -> Conversation:
        return Conversation(live.socket_url(self.jobs_url), self.token, document, variables, job_id)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.jobs_url!r}, auth_url={self.auth_url!r})"


class Polling:
    """When ``wait`` polls: soon at first, so short jobs return fast, then every ``poll_s``."""

    def __init__(self, timeout_s: float | None, poll_s: float) -> None:
        if poll_s <= 0:
            raise ValueError(f"poll_s must be positive, got {poll_s!r}")
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.poll_s = poll_s
        self.delay = min(FIRST_POLL_S, poll_s)

    def pause(self) -> float | None:
        """Seconds to sleep before the next poll; None once the deadline has passed."""
        pause, self.delay = self.delay, min(self.delay * 2, self.poll_s)
        if self.deadline is None:
            return pause
        remaining = self.deadline - time.monotonic()
        return None if remaining <= 0 else min(pause, remaining)
