"""The client's typed errors, one per way a call can fail, mapped from ``extensions.code``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from workq.values import Job

T = TypeVar("T")

# The server's message for a job id that is missing or someone else's (cancelJob, retryDeadItems).
NO_SUCH_JOB = "No such job."
NO_SUCH_SCHEDULE = "No such schedule."


class WorkqClientError(Exception):
    """A Workq API call failed; ``code`` is the API's ``extensions.code`` when it gave one.

    ``url`` is the endpoint that was called, so a message can say where.
    """

    def __init__(self, message: str, *, code: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.url = url

    @property
    def message(self) -> str:
        return str(self.args[0])


class Unauthenticated(WorkqClientError):
    """No token, or one the auth service does not accept (expired, revoked); or a wrong password."""


class BadInput(WorkqClientError):
    """The request was refused as invalid; ``item`` and ``field`` say where, when the API knows.

    ``item`` is the index of the offending item of a submission, ``field`` the
    name of the offending field (``iterations``, ``idempotencyKey``, ``id`` ...).
    """

    def __init__(
        self,
        message: str,
        *,
        item: int | None = None,
        field: str | None = None,
        code: str | None = "BAD_USER_INPUT",
        url: str | None = None,
    ) -> None:
        super().__init__(message, code=code, url=url)
        self.item = item
        self.field = field


class NotFound(BadInput):
    """Something the request names does not exist (the API reports it as bad input too)."""


class JobNotFound(NotFound):
    """No job with that id is yours: it does not exist or belongs to someone else."""

    def __init__(self, job_id: str, *, url: str | None = None) -> None:
        super().__init__(
            f"no job {job_id!r} (it does not exist or is not yours)", field="id", url=url
        )
        self.job_id = job_id


class ScheduleNotFound(NotFound):
    """No schedule with that id is yours: it does not exist or belongs to someone else."""

    def __init__(self, schedule_id: str, *, url: str | None = None) -> None:
        super().__init__(
            f"no schedule {schedule_id!r} (it does not exist or is not yours)", field="id", url=url
        )
        self.schedule_id = schedule_id


class Forbidden(WorkqClientError):
    """Refused: only an admin may do that (change limits), or a page of another origin."""


class Unavailable(WorkqClientError):
    """The service, or one it depends on, cannot answer now; retrying later may work.

    Resubmitting after this is safe with an idempotency key: the job the first
    attempt may have created is returned instead of a second one.
    """


class Unreachable(Unavailable):
    """Nothing answered at the URL: connection refused, unknown host, connect timeout."""


class RateLimited(WorkqClientError):
    """Too many attempts (logins) in the service's window; wait before trying again.

    ``retry_after_s`` is how long, when the service said.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: int | None = None,
        code: str | None = "RATE_LIMITED",
        url: str | None = None,
    ) -> None:
        super().__init__(message, code=code, url=url)
        self.retry_after_s = retry_after_s


class QuotaExceeded(RateLimited):
    """A submission would exceed one of your quotas; nothing of it was stored.

    ``quota`` is ``itemsPerMinute`` or ``itemsWaiting``, ``limit`` your limit,
    ``retry_after_s`` when trying again may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        quota: str | None,
        limit: int | None,
        retry_after_s: int | None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, retry_after_s=retry_after_s, code="QUOTA_EXCEEDED", url=url)
        self.quota = quota
        self.limit = limit


class ServerError(WorkqClientError):
    """The service failed (``INTERNAL``, an HTTP 5xx, an answer that is not the API's)."""


class Timeout(WorkqClientError):
    """``wait`` gave up before the job was final; ``job`` is the job as last seen."""

    def __init__(self, job: Job, timeout_s: float) -> None:
        super().__init__(
            f"job {job.id} is still {job.status} after {timeout_s:g} s "
            f"({job.completed + job.dead + job.cancelled}/{job.size} items final)"
        )
        self.job = job
        self.timeout_s = timeout_s


_BY_CODE: dict[str, type[WorkqClientError]] = {
    "UNAUTHENTICATED": Unauthenticated,
    "FORBIDDEN": Forbidden,
    "BAD_USER_INPUT": BadInput,
    "GRAPHQL_PARSE_FAILED": BadInput,
    "GRAPHQL_VALIDATION_FAILED": BadInput,
    "BAD_REQUEST": BadInput,
    "PAYLOAD_TOO_LARGE": BadInput,
    "UNAVAILABLE": Unavailable,
    "RATE_LIMITED": RateLimited,
    "QUOTA_EXCEEDED": QuotaExceeded,
    "INTERNAL": ServerError,
}


def from_graphql(
    error: dict[str, Any], url: str, job_id: str | None = None, schedule_id: str | None = None
) -> WorkqClientError:
    """The typed error for one entry of a GraphQL answer's ``errors``.

    ``job_id`` is the job the operation named, if any: the API refuses a
    missing one as bad input of field ``id``, which becomes JobNotFound
    (``schedule_id`` likewise becomes ScheduleNotFound).

    Codes without a class of their own (``METHOD_NOT_ALLOWED``, ``NOT_FOUND``,
    ...) are refusals a correct client does not provoke: the base class, with
    the code.
    """
    message = str(error.get("message") or "the request failed")
    extensions = error.get("extensions") or {}
    code = extensions.get("code")
    cls = _BY_CODE.get(code, WorkqClientError) if isinstance(code, str) else WorkqClientError
    if issubclass(cls, BadInput):
        item, field = extensions.get("item"), extensions.get("field")
        if job_id is not None and field == "id" and message == NO_SUCH_JOB:
            return JobNotFound(job_id, url=url)
        if schedule_id is not None and field == "id" and message == NO_SUCH_SCHEDULE:
            return ScheduleNotFound(schedule_id, url=url)
        return cls(
            message,
            item=item if isinstance(item, int) else None,
            field=field if isinstance(field, str) else None,
            code=code,
            url=url,
        )
    if cls is QuotaExceeded:
        return QuotaExceeded(
            message,
            quota=_typed(extensions.get("quota"), str),
            limit=_typed(extensions.get("limit"), int),
            retry_after_s=_typed(extensions.get("retryAfterS"), int),
            url=url,
        )
    if cls is RateLimited:
        retry_after_s = _typed(extensions.get("retryAfterS"), int)
        return RateLimited(message, retry_after_s=retry_after_s, url=url)
    return cls(message, code=code if isinstance(code, str) else None, url=url)


def _typed(value: Any, kind: type[T]) -> T | None:
    """``value`` if the answer gave one of the expected type, else None."""
    return value if isinstance(value, kind) else None
