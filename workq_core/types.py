"""Interfaces a plugin implements and the values that cross them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from workq_core.errors import InvalidProgress

if TYPE_CHECKING:
    import peewee

    from workq_core.config import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how far apart an item is attempted.

    Delay before attempt ``n + 1`` is ``min(max_delay_ms, base_delay_ms * 2**(n-1))``
    with full jitter on its upper half, so retries spread out instead of
    arriving in waves.
    """

    max_attempts: int = 5
    base_delay_ms: int = 1000
    max_delay_ms: int = 60_000

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_ms < 0 or self.max_delay_ms < self.base_delay_ms:
            raise ValueError("need 0 <= base_delay_ms <= max_delay_ms")


class AttemptControl(Protocol):
    """The executor's side of one running attempt: heartbeats in, cancellation out.

    ``heartbeat()`` records that the handler is making progress; ``cancelled``
    is true once the attempt's job was cancelled (the executor learns it on
    its lease renewals), and reading it true marks the attempt as stopped by
    cancellation. See docs/timeouts.md.
    """

    def heartbeat(self) -> None: ...

    @property
    def cancelled(self) -> bool: ...


class DetachedControl:
    """A context's control outside an executor (tests): beats go nowhere, never cancelled."""

    def heartbeat(self) -> None:
        return None

    @property
    def cancelled(self) -> bool:
        return False


MAX_PROGRESS = 2**31 - 1  # GraphQL Int is 32-bit
MAX_PROGRESS_MESSAGE = 1000


class ProgressSink(Protocol):
    """Where ``JobContext.progress`` sends checked reports; the executor gives one per attempt."""

    def report(self, done: int, total: int | None, message: str | None) -> None: ...


class _NoProgress:
    """The sink of a context built outside the executor (tests, tools): reports go nowhere."""

    def report(self, done: int, total: int | None, message: str | None) -> None:
        return None


@dataclass(frozen=True)
class JobContext:
    """What a handler knows about the item it runs, and how it reports progress."""

    job_id: str
    item_index: int
    attempt: int
    idempotency_key: str
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("workq.job"))
    control: AttemptControl = field(default_factory=DetachedControl, repr=False, compare=False)
    progress_sink: ProgressSink = field(default_factory=_NoProgress, repr=False, compare=False)

    def heartbeat(self) -> None:
        """Prove this attempt is making progress.

        After the first call the executor keeps the item's lease only while
        calls keep coming within ``executor.lease_s``: a handler that stops
        calling is taken to be stuck, and the item is run again elsewhere
        once its lease runs out. A handler that never calls it keeps its
        lease for as long as its executor process lives.
        """
        self.control.heartbeat()

    @property
    def cancelled(self) -> bool:
        """True once this item's job was cancelled; a handler may check it and stop.

        An attempt that ends (returns or raises) after its handler saw this
        true is recorded ``cancelled``, not completed or failed.
        """
        return self.control.cancelled

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Report how far this item is: ``done`` of ``total`` units (total None: unknown).

        Cheap to call often: the executor writes at most one report per item
        every ``executor.progress_interval_s`` and always the last one with
        the attempt's outcome. Arguments it cannot mean (negative, ``done``
        above ``total``, not integers, a message over 1000 characters) raise
        :class:`workq_core.InvalidProgress`, which fails this attempt unless
        the handler catches it.
        """
        _check_count("done", done)
        if total is not None:
            _check_count("total", total)
            if done > total:
                raise InvalidProgress(f"progress: done ({done}) is more than total ({total})")
        if message is not None and not isinstance(message, str):
            raise InvalidProgress(f"progress: message must be a string, got {message!r}")
        if message is not None and len(message) > MAX_PROGRESS_MESSAGE:
            raise InvalidProgress(
                f"progress: message has {len(message)} characters;"
                f" at most {MAX_PROGRESS_MESSAGE} are allowed"
            )
        self.progress_sink.report(done, total, message)


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProgress(f"progress: {name} must be an integer, got {value!r}")
    if not 0 <= value <= MAX_PROGRESS:
        raise InvalidProgress(f"progress: {name} must be between 0 and {MAX_PROGRESS}, got {value}")


@dataclass(frozen=True)
class DefaultSchedule:
    """A recurring run a job type declares for itself (docs/schedules.md).

    Listed in a job type's optional ``schedules`` attribute. The jobs service
    creates each at start-up, or updates it to match, as the schedule
    ``<job type>/<name>`` of the system user ``system``; a pause an admin set
    stays. ``data`` is one item or a list of items, checked against the job
    type's input schema when the plugin registers. Exactly one of ``cron``
    (five fields, in ``timezone``, an IANA name) or ``interval_s``.
    ``missed`` is SKIP, RUN_ONCE or RUN_ALL (up to ``max_catch_up`` runs);
    ``overlap`` is SKIP or ALLOW.
    """

    name: str
    data: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    cron: str | None = None
    timezone: str | None = None
    interval_s: int | None = None
    missed: str = "RUN_ONCE"
    max_catch_up: int = 10
    overlap: str = "SKIP"


@runtime_checkable
class JobType(Protocol):
    """A kind of job: its name, input schema, retry policy and handler.

    ``name`` is also the topic its items travel on. ``retry`` is a
    :class:`RetryPolicy`, or None for the executor's configured one. An
    optional ``timeout_s`` (a positive number; absent or None: no limit)
    bounds each attempt: such job types run in worker processes that the
    executor kills at the timeout (docs/timeouts.md). An
    optional ``limits`` attribute, a sequence of :class:`workq_core.Limit`,
    caps how many items run at once and how fast they start, across all
    executors (docs/limits.md). What
    ``run`` may return and raise, and what is recorded for each, is the
    handler contract in docs/plugins.md. Optionally, ``schedules``: a
    sequence of :class:`DefaultSchedule` the job type runs on by itself.
    """

    name: str
    description: str
    input_schema: Mapping[str, Any]
    retry: RetryPolicy | None

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any: ...


@dataclass(frozen=True)
class ComponentContext:
    """What a factory gets: the resolved settings and the shared resources."""

    settings: Settings
    database: peewee.Database | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A token an auth backend issued, and how long it lives."""

    token: str
    expires_in_s: int


@dataclass(frozen=True)
class TokenClaims:
    """What an auth backend vouches for after verifying a token."""

    user_id: int
    token_version: int


@runtime_checkable
class AuthBackend(Protocol):
    """Issues and verifies bearer tokens for users.

    ``verify`` raises :class:`workq_core.AuthError` for any token it does not
    accept (bad signature, expired, wrong audience, malformed, ...).
    Revocation is the auth service's: it compares ``token_version`` with the
    user's current one.
    """

    def issue(self, user_id: int, token_version: int) -> IssuedToken: ...

    def verify(self, token: str) -> TokenClaims: ...


@runtime_checkable
class DedupStore(Protocol):
    """Remembers idempotency keys of items that completed.

    ``seen(key)`` is true when ``mark(key, ttl_s)`` was called for the key less
    than ``ttl_s`` seconds ago. Stores shared between processes give
    deduplication across executors; per-process stores only within one.
    """

    def seen(self, key: str) -> bool: ...

    def mark(self, key: str, ttl_s: float) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to publish: an item reference and its properties."""

    key: str
    payload: bytes
    properties: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Delivery(Protocol):
    """A message received from a transport, to be settled exactly once.

    No redelivery count: brokers keep it in memory and reset it when they
    restart, so the core counts attempts in the database instead.
    """

    job_type: str
    payload: bytes
    properties: Mapping[str, str]


# The property naming one dead letter (an item's death, not its message): a
# transport asked whether a dead letter was already sent compares this one.
DEAD_LETTER_KEY = "dead_letter_key"


@runtime_checkable
class Receiver(Protocol):
    """One consumer on the shared subscription of some job types' topics.

    ``receive`` may be called from several threads at once. Every delivery is
    settled exactly once: ``ack`` after its outcome is committed, or ``nack``
    to have the broker redeliver it (to any consumer).

    ``dead_letter`` publishes a copy, with its properties plus
    ``properties``, to its job type's dead-letter topic, confirmed, and
    leaves the delivery unsettled: the core records the dead letter, then
    acks, so a process that dies in between leaves the message to be
    delivered again. With ``maybe_sent`` (an earlier try may have published
    this dead letter, then died before recording it), it first looks in the
    dead-letter topic and publishes nothing if a message there has the same
    :data:`DEAD_LETTER_KEY` property as ``properties``. It raises
    :class:`workq_core.TransportError` if the broker did not confirm.
    """

    def receive(self, timeout_s: float) -> Delivery | None: ...

    def ack(self, delivery: Delivery) -> None: ...

    def nack(self, delivery: Delivery) -> None: ...

    def dead_letter(
        self, delivery: Delivery, properties: Mapping[str, str], *, maybe_sent: bool = False
    ) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Transport(Protocol):
    """Moves item messages from the jobs service to executors.

    One topic per job type. ``declare`` makes the topics, their shared
    subscription and the dead-letter topic's subscription exist, so nothing
    published afterwards is skipped or discarded. ``publish`` returns only
    after the broker confirmed every message, or raises
    :class:`workq_core.TransportError`; nothing is dropped silently.

    There is no delayed publish: the core publishes an item only once it is
    due (due times live in the database, as retries' do), so a transport
    never holds messages for later and brokers that ignore delivery delays
    (pulsar-lite) behave the same as those that honour them.

    Optionally a transport has ``check_ready()``, which ``/readyz`` calls:
    it returns when the broker is reachable and raises TransportError
    otherwise (not a protocol member, so transports without it still conform).
    """

    def declare(self, job_types: Sequence[str]) -> None: ...

    def publish(self, job_type: str, messages: Sequence[OutgoingMessage]) -> None: ...

    def subscribe(self, job_types: Sequence[str]) -> Receiver: ...

    def close(self) -> None: ...


AuthBackendFactory = Callable[[ComponentContext], AuthBackend]
DedupStoreFactory = Callable[[ComponentContext], DedupStore]
TransportFactory = Callable[[ComponentContext], Transport]
