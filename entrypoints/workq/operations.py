"""Each API call as data: the service, the document, its variables and how to read the answer.

Shared by ``Client`` and ``AsyncClient``, which only differ in how they send.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypedDict, TypeVar

from workq.errors import JobNotFound
from workq.values import Item, Job, JobTypeLimits, Limit, Quota, User

T = TypeVar("T")
Service = Literal["auth", "jobs"]
Data = dict[str, Any]

JOB = Job.selection()
ITEM = Item.selection()
USER = User.selection()

LOGIN = f"""mutation Login($input: LoginInput!) {{ login(loginInput: $input) {{ {USER} }} }}"""
LOGOUT = "mutation Logout { logout }"
CREATE_USER = f"""mutation CreateUser($input: CreateUserInput!) {{
  createUser(createUserInput: $input) {{ {USER} }} }}"""
SUBMIT = f"""mutation Submit($input: ExecuteJobInput!) {{
  executeJob(executeJobInput: $input) {{ {JOB} }} }}"""
JOB_QUERY = f"""query Job($id: ID!) {{ job(id: $id) {{ {JOB} }} }}"""
ITEMS = f"""query Items($id: ID!, $status: String, $first: Int!, $offset: Int!) {{
  job(id: $id) {{ items(status: $status, first: $first, offset: $offset) {{ {ITEM} }} }} }}"""
MY_JOBS = f"""query MyJobs($status: String, $type: String, $first: Int!, $after: String) {{
  myJobs(status: $status, type: $type, first: $first, after: $after) {{
    nodes {{ {JOB} }} nextCursor }} }}"""
CANCEL = f"""mutation Cancel($id: ID!) {{ cancelJob(id: $id) {{ {JOB} }} }}"""
RETRY_DEAD = f"""mutation RetryDead($id: ID!) {{ retryDeadItems(id: $id) {{ {JOB} }} }}"""
LIMITS = JobTypeLimits.selection()
SHOW_LIMITS = f"""query Limits($name: String) {{ jobTypeLimits(name: $name) {{ {LIMITS} }} }}"""
SET_LIMITS = f"""mutation SetLimits($name: String!, $limits: [LimitInput!]) {{
  setJobTypeLimits(name: $name, limits: $limits) {{ {LIMITS} }} }}"""
QUOTA = Quota.selection()
MY_QUOTA = f"""query MyQuota {{ myQuota {{ {QUOTA} }} }}"""
USER_QUOTA = f"""query UserQuota($email: String!) {{ userQuota(email: $email) {{ {QUOTA} }} }}"""
SET_QUOTA = f"""mutation SetUserQuota($email: String!, $itemsPerMinute: Int, $itemsWaiting: Int) {{
  setUserQuota(email: $email, itemsPerMinute: $itemsPerMinute, itemsWaiting: $itemsWaiting) {{
    {QUOTA} }} }}"""


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One request; ``read(data, url)`` turns the answer's ``data`` into the caller's value.

    ``job_id`` is the job the operation is about, so a refusal of it as missing
    becomes JobNotFound naming it; ``schedule_id`` likewise for ScheduleNotFound.
    """

    service: Service
    document: str
    read: Callable[[Data, str], T]
    variables: Data = field(default_factory=dict)
    job_id: str | None = None
    schedule_id: str | None = None

    @property
    def body(self) -> Data:
        return {"query": self.document, "variables": self.variables}


def login(email: str, password: str) -> Operation[User]:
    variables = {"input": {"email": email, "password": password}}
    return Operation("auth", LOGIN, lambda data, _url: User.from_dict(data["login"]), variables)


def logout() -> Operation[bool]:
    return Operation("auth", LOGOUT, lambda data, _url: bool(data["logout"]))


def create_user(email: str, password: str) -> Operation[User]:
    variables = {"input": {"email": email, "password": password}}
    return Operation(
        "auth", CREATE_USER, lambda data, _url: User.from_dict(data["createUser"]), variables
    )


def submit(
    job_type: str,
    data: dict[str, Any] | list[dict[str, Any]],
    idempotency_key: str | None,
    order: Data | None = None,
) -> Operation[Job]:
    """``order`` holds ``runAt``, ``delayMs`` and ``priority`` as the API takes them."""
    job_input: Data = {"name": job_type, "data": data, **(order or {})}
    if idempotency_key is not None:
        job_input["idempotencyKey"] = idempotency_key
    return Operation(
        "jobs", SUBMIT, lambda out, _url: Job.from_dict(out["executeJob"]), {"input": job_input}
    )


def queue_order(
    run_at: dt.datetime | str | None, delay_ms: int | None, priority: int | None
) -> Data:
    """The order fields of a submission; an aware datetime travels as ISO-8601.

    A naive datetime is refused here (ValueError), as the API would refuse it:
    Workq never guesses a time zone.
    """
    order: Data = {}
    if isinstance(run_at, dt.datetime):
        if run_at.tzinfo is None:
            raise ValueError("run_at must be timezone-aware (e.g. datetime.now(timezone.utc))")
        order["runAt"] = run_at.isoformat()
    elif run_at is not None:
        order["runAt"] = run_at
    if delay_ms is not None:
        order["delayMs"] = delay_ms
    if priority is not None:
        order["priority"] = priority
    return order


def job(job_id: str) -> Operation[Job]:
    def read(data: Data, url: str) -> Job:
        return Job.from_dict(_found(data, job_id, url))

    return Operation("jobs", JOB_QUERY, read, {"id": job_id}, job_id)


def items_page(job_id: str, status: str | None, first: int, offset: int) -> Operation[list[Item]]:
    def read(data: Data, url: str) -> list[Item]:
        return [Item.from_dict(item) for item in _found(data, job_id, url)["items"]]

    variables = {"id": job_id, "status": status, "first": first, "offset": offset}
    return Operation("jobs", ITEMS, read, variables, job_id)


def jobs_page(
    status: str | None, job_type: str | None, first: int, after: str | None
) -> Operation[tuple[list[Job], str | None]]:
    def read(data: Data, _url: str) -> tuple[list[Job], str | None]:
        page = data["myJobs"]
        return [Job.from_dict(node) for node in page["nodes"]], page["nextCursor"]

    variables = {"status": status, "type": job_type, "first": first, "after": after}
    return Operation("jobs", MY_JOBS, read, variables)


def cancel(job_id: str) -> Operation[Job]:
    return Operation(
        "jobs", CANCEL, lambda data, _url: Job.from_dict(data["cancelJob"]), {"id": job_id}, job_id
    )


def retry_dead(job_id: str) -> Operation[Job]:
    return Operation(
        "jobs",
        RETRY_DEAD,
        lambda data, _url: Job.from_dict(data["retryDeadItems"]),
        {"id": job_id},
        job_id,
    )


def limits(job_type: str | None) -> Operation[list[JobTypeLimits]]:
    def read(data: Data, _url: str) -> list[JobTypeLimits]:
        return [JobTypeLimits.from_dict(found) for found in data["jobTypeLimits"]]

    return Operation("jobs", SHOW_LIMITS, read, {"name": job_type})


def set_limits(job_type: str, limits: list[Limit] | None) -> Operation[JobTypeLimits]:
    wanted = None if limits is None else [limit.to_dict() for limit in limits]
    return Operation(
        "jobs",
        SET_LIMITS,
        lambda data, _url: JobTypeLimits.from_dict(data["setJobTypeLimits"]),
        {"name": job_type, "limits": wanted},
    )


class QuotaChanges(TypedDict, total=False):
    """What ``set_user_quota`` changes: a number sets that quota (0 is unlimited),
    None gives the user the configured one back, a key left out keeps its value."""

    items_per_minute: int | None
    items_waiting: int | None


# Python keyword -> the setUserQuota argument (and variable) it travels as.
_QUOTA_ARGUMENTS = {"items_per_minute": "itemsPerMinute", "items_waiting": "itemsWaiting"}


def my_quota() -> Operation[Quota]:
    return Operation("jobs", MY_QUOTA, lambda data, _url: Quota.from_dict(data["myQuota"]))


def user_quota(email: str) -> Operation[Quota]:
    return Operation(
        "jobs", USER_QUOTA, lambda data, _url: Quota.from_dict(data["userQuota"]), {"email": email}
    )


def set_user_quota(email: str, changes: QuotaChanges) -> Operation[Quota]:
    """A variable left out of the request is an argument left out: that quota is kept."""
    variables: Data = {"email": email}
    for key, value in changes.items():
        if key not in _QUOTA_ARGUMENTS:
            raise TypeError(f"unknown quota {key!r}; expected one of {', '.join(_QUOTA_ARGUMENTS)}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{key} must be an int (0 is unlimited) or None, not {value!r}")
        variables[_QUOTA_ARGUMENTS[key]] = value
    return Operation(
        "jobs", SET_QUOTA, lambda data, _url: Quota.from_dict(data["setUserQuota"]), variables
    )


def document(query: str, variables: Data | None) -> Operation[Data]:
    """Any document, for what the typed methods do not cover; the answer's ``data`` as is."""
    return Operation("jobs", query, lambda data, _url: data, dict(variables or {}))


def _found(data: Data, job_id: str, url: str) -> Data:
    """The API reads a missing job, and someone else's, as null."""
    record: Data | None = data["job"]
    if record is None:
        raise JobNotFound(job_id, url=url)
    return record
