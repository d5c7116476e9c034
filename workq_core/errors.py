"""The one error hierarchy of Workq; each error is handled once, at the edge."""

from __future__ import annotations


class WorkqError(Exception):
    """Something went wrong in Workq."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(WorkqError):
    """The configuration is invalid."""


class PluginError(WorkqError):
    """A plugin could not be loaded or registered."""


class DuplicateName(PluginError):
    """Two plugins registered the same name."""


class UnknownName(ConfigError):
    """No installed plugin provides that name."""


class JobTypeNotFound(WorkqError):
    """No installed plugin provides that job type."""


class InvalidPayload(WorkqError):
    """A job item does not match its job type's input schema."""

    def __init__(self, message: str, *, item: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.item = item
        self.field = field


class InvalidProgress(WorkqError, ValueError):
    """A handler called ``ctx.progress`` with arguments it cannot mean; its attempt fails."""


class AuthError(WorkqError):
    """Not authenticated."""


class Forbidden(WorkqError):
    """Only an admin may do this."""


class RateLimited(WorkqError):
    """Too many attempts; try again later."""

    def __init__(self, message: str | None = None, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class QuotaExceeded(WorkqError):
    """A submission would exceed one of the user's quotas; nothing of it was stored.

    ``quota`` names it (``itemsPerMinute`` or ``itemsWaiting``), ``limit`` is
    the user's limit and ``retry_after_s`` when trying again may succeed.
    """

    def __init__(self, message: str, *, quota: str, limit: int, retry_after_s: int) -> None:
        super().__init__(message)
        self.quota = quota
        self.limit = limit
        self.retry_after_s = retry_after_s


class Unavailable(WorkqError):
    """A service Workq depends on is unavailable; try again later."""


class TransportError(WorkqError):
    """The message transport failed."""


class RetryLater(WorkqError):
    """Raised by a job handler: retry this item after ``delay_ms`` instead of the backoff.

    For a handler that knows when trying again makes sense (an upstream
    service said "retry in 30 s"). The attempt still counts, so an item that
    keeps asking ends dead after its last attempt, like any other failure:
    attempts stay bounded. The retry is logged at INFO, not as a failure.
    """

    def __init__(self, delay_ms: int, message: str | None = None) -> None:
        if not isinstance(delay_ms, int) or delay_ms < 0:
            raise ValueError(f"RetryLater needs delay_ms >= 0, got {delay_ms!r}")
        super().__init__(message or f"the handler asked to retry in {delay_ms} ms")
        self.delay_ms = delay_ms


class PermanentFailure(WorkqError):
    """Raised by a job handler when no retry can help: the item is dead-lettered at once.

    For errors in the item itself (a record that no longer exists, input the
    schema cannot express as invalid); what remains of its attempts is not
    used, as for an item that fails validation.
    """


class AttemptTimedOut(WorkqError):
    """An attempt ran past its job type's ``timeout_s``; its worker process was killed.

    Recorded as the attempt's error and retried per the job type's retry
    policy, like any other failure (docs/timeouts.md).
    """


class WorkerProcessLost(WorkqError):
    """The worker process running an attempt exited before it answered; the attempt failed."""
