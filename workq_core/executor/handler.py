"""A batch of deliveries, start to finish: claim in the database, run, commit, then settle."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import peewee

from workq_core.config import Settings
from workq_core.db import database_errors
from workq_core.db.sql import now_ms
from workq_core.errors import InvalidPayload, PermanentFailure, RetryLater, Unavailable
from workq_core.events import ItemEvent
from workq_core.executor import attempts
from workq_core.executor.attempt_spans import AttemptSpans
from workq_core.executor.attempts import Claim, Outcome, Verdict
from workq_core.executor.process_pool import ProcessPool
from workq_core.executor.progress import AttemptProgress, ProgressFlusher
from workq_core.executor.running import RunningAttempt, RunningAttempts
from workq_core.faults import (
    AFTER_COMMIT_BEFORE_ACK,
    AFTER_DEAD_LETTER_PUBLISH,
    AFTER_DEAD_LETTER_RECORD,
    IN_RECOVERED_ATTEMPT,
    fault_point,
)
from workq_core.jobs.messages import BadMessage, ItemRef, decode, idempotency_key
from workq_core.jobs.states import CANCELLED, COMPLETED, DEAD
from workq_core.lifecycle import emit
from workq_core.limits import Limit
from workq_core.limits.store import declared_by
from workq_core.pluginmanager import WorkqPluginManager
from workq_core.registry import JobTypeRegistry, timeout_of
from workq_core.retry import backoff_ms, policy_for
from workq_core.types import (
    DEAD_LETTER_KEY,
    DedupStore,
    Delivery,
    JobContext,
    JobType,
    Receiver,
    Transport,
)
from workq_core.validation import validate_items

logger = logging.getLogger(__name__)

Pending = list[tuple[ItemRef, Delivery]]


@dataclass
class ItemHandler:
    """Runs items exactly as the delivery semantics promise, a batch per transaction.

    Attempts are counted in the database (one transaction for the batch)
    before any handler runs; items recovered from a claimer that stopped are
    also marked running as their handler starts (one small write each), so
    a crash costs an attempt at most to the item each thread was running
    (docs/reliability.md); outcomes are committed together; only then are
    the messages acknowledged and completed keys marked in the dedup store,
    so a redelivery is acknowledged without running again. Batching divides
    the database round trips by the batch size and changes none of that.
    Attempts of job types that declare ``timeout_s`` run in ``pool``'s
    worker processes; the rest in the calling thread.
    """

    db: peewee.Database
    transport: Transport
    dedup: DedupStore
    job_types: JobTypeRegistry
    pm: WorkqPluginManager
    settings: Settings
    lease_ms: int = 60_000
    pool: ProcessPool | None = None
    running: RunningAttempts = field(default_factory=RunningAttempts)
    # Called after a commit that may have woken items parked by a limit: the
    # in-process relay's ``wake``, so they are published now, not at its next poll.
    wake_relay: Callable[[], None] = lambda: None
    progress: ProgressFlusher = field(init=False)

    def __post_init__(self) -> None:
        self.progress = ProgressFlusher(self.db, self.settings.executor.progress_interval_s)

    def handle(self, receiver: Receiver, deliveries: Sequence[Delivery]) -> None:
        """Settle every delivery: ack, nack, or dead-letter, each exactly once."""
        pending: Pending = []
        for delivery in deliveries:
            ref = self._decode(receiver, delivery)
            if ref is None:
                continue
            if self.dedup.seen(ref.idempotency_key):
                receiver.ack(delivery)
            else:
                pending.append((ref, delivery))
        if not pending:
            return
        settled: set[int] = set()
        try:
            with database_errors():
                self._process(receiver, pending, settled)
        except Unavailable:
            logger.warning("database unavailable; messages released", extra={"count": len(pending)})
            self.db.close()  # a broken connection is reopened on next use
            for _ref, delivery in pending:
                if id(delivery) not in settled:
                    receiver.nack(delivery)

    def _decode(self, receiver: Receiver, delivery: Delivery) -> ItemRef | None:
        try:
            return decode(delivery.payload, delivery.properties)
        except BadMessage as exc:
            logger.error("dead-lettering a message that is not an item", extra={"error": str(exc)})
            receiver.dead_letter(delivery, {"error_type": "BadMessage", "error_message": str(exc)})
            receiver.ack(delivery)
            return None

    def _process(self, receiver: Receiver, pending: Pending, settled: set[int]) -> None:
        spans = AttemptSpans({ref.item_id: delivery.properties for ref, delivery in pending})
        try:
            self._claim_run_settle(receiver, pending, settled, spans)
        finally:
            spans.end_all()

    def _claim_run_settle(
        self, receiver: Receiver, pending: Pending, settled: set[int], spans: AttemptSpans
    ) -> None:
        claims = attempts.claim(
            self.db, [ref for ref, _ in pending], self.lease_ms, self._declared_limits
        )
        runs: list[tuple[Claim, Delivery]] = []
        dead: list[tuple[Claim, Delivery]] = []
        for (ref, delivery), claim in zip(pending, claims, strict=True):
            if claim.verdict is Verdict.RUN:
                runs.append((claim, delivery))
            elif claim.verdict is Verdict.DEAD_LETTER:
                dead.append((claim, delivery))
            else:
                self._settle_without_running(receiver, delivery, claim, ref)
                settled.add(id(delivery))
        outcomes = self._run_all([claim for claim, _ in runs], spans)
        owned = attempts.record(self.db, outcomes, self.lease_ms)
        if any(c.scopes or c.verdict is Verdict.PARKED for c in claims):
            self.wake_relay()
        fault_point(AFTER_COMMIT_BEFORE_ACK)
        for (claim, delivery), outcome, mine in zip(runs, outcomes, owned, strict=True):
            if mine and outcome.kind == DEAD:
                dead.append((replace(claim, **_error_fields(outcome.error)), delivery))
                continue
            if mine and outcome.kind == COMPLETED:
                self.dedup.mark(_key(claim), self.settings.executor.dedup_ttl_s)
            receiver.ack(delivery)
            settled.add(id(delivery))
            if mine:
                with spans.active(claim.item_id):
                    self._emit_outcome(outcome)
        run_ms = {o.claim.item_id: o.duration_ms for o in outcomes}
        self._dead_letter(receiver, dead, settled, spans, run_ms)

    def _declared_limits(self, job_type: str) -> tuple[Limit, ...]:
        return declared_by(self.job_types.get(job_type)) if job_type in self.job_types else ()

    def _settle_without_running(
        self, receiver: Receiver, delivery: Delivery, claim: Claim, ref: ItemRef
    ) -> None:
        if claim.verdict is Verdict.BUSY:
            receiver.nack(delivery)
            return
        if claim.verdict is Verdict.MISSING:
            logger.warning("message for an item that does not exist", extra={"job_id": ref.job_id})
        receiver.ack(delivery)

    def _run_all(self, claims: list[Claim], spans: AttemptSpans) -> list[Outcome]:
        held = [RunningAttempt(claim) for claim in claims]
        self.running.hold(held)  # from now on the lease renewer keeps their leases
        outcomes: list[Outcome] = []
        try:
            for attempt in held:
                previous = outcomes[-1].claim if outcomes else None
                started_ms = now_ms()
                if attempt.claim.recovered or (previous is not None and previous.recovered):
                    attempts.mark_running(self.db, attempt.claim, previous, started_ms)
                if attempt.claim.recovered:
                    fault_point(IN_RECOVERED_ATTEMPT)
                attempt.running = True
                outcome = self._attempt(attempt, spans)
                attempt.running = False
                outcomes.append(replace(outcome, started_ms=started_ms))
            return outcomes
        finally:
            self.running.drop()

    def _attempt(self, attempt: RunningAttempt, spans: AttemptSpans) -> Outcome:
        """Run one item's handler in its span; any exception is the outcome, never ours.

        The outcome carries the attempt's last progress report.
        """
        claim = attempt.claim
        spans.start(claim)
        reporter = AttemptProgress(claim, self.progress)
        with spans.active(claim.item_id):
            waited = replace(_event(claim), waited_ms=float(now_ms() - claim.due_at))
            emit(self.pm, "workq_item_started", waited)
            started = time.perf_counter()
            outcome = self._outcome(attempt, reporter)
            outcome = replace(outcome, duration_ms=(time.perf_counter() - started) * 1000)
        report, unlogged = reporter.finish()
        outcome = replace(outcome, progress=report, progress_unlogged=unlogged)
        if outcome.error is not None:
            spans.failed(claim, outcome.error)
            if outcome.retry_in_ms is not None:
                outcome = replace(outcome, trace_context=spans.retry_context(claim))
        if attempt.saw_cancel:  # the handler stopped because its job was cancelled
            outcome = replace(outcome, cancelled=True)
        return outcome

    def _outcome(self, attempt: RunningAttempt, reporter: AttemptProgress) -> Outcome:
        claim = attempt.claim
        job_type = self.job_types.get(claim.job_type)
        try:
            validate_items(job_type, [claim.data])
            result = self._run_handler(job_type, attempt, reporter)
        except (InvalidPayload, PermanentFailure) as exc:
            return Outcome(claim, error=exc)  # no retry can help: dead at once
        except RetryLater as exc:
            return Outcome(claim, error=exc, retry_in_ms=self._retry_delay(job_type, claim, exc))
        except Exception as exc:
            return Outcome(claim, error=exc, retry_in_ms=self._retry_delay(job_type, claim))
        return Outcome(claim, result_json=result)

    def _run_handler(
        self, job_type: JobType, attempt: RunningAttempt, reporter: AttemptProgress
    ) -> str | None:
        """The handler's result as JSON, from this thread or, with a timeout, a worker process.

        Encoded here, so an unserialisable result fails this attempt alone
        rather than the batch's commit. A worker process's progress reports
        come back over its pipe to ``reporter``, like this thread's.
        """
        timeout_s = timeout_of(job_type)
        if timeout_s is not None and self.pool is not None:
            return self.pool.run(attempt, timeout_s, reporter)
        c = attempt.claim
        ctx = JobContext(
            c.job_id, c.index, c.attempt, _key(c), control=attempt, progress_sink=reporter
        )
        return json.dumps(job_type.run(c.data, ctx), allow_nan=False)

    def _retry_delay(
        self, job_type: JobType, claim: Claim, asked: RetryLater | None = None
    ) -> int | None:
        """None after the last attempt (dead), else the handler's delay or the backoff."""
        if claim.attempt >= claim.max_attempts:
            return None
        if asked is not None:
            return asked.delay_ms
        return backoff_ms(policy_for(job_type, self.settings.executor), claim.attempt)

    def _emit_outcome(self, outcome: Outcome) -> None:
        event = _event(outcome.claim)
        if outcome.kind == CANCELLED:
            logger.info(
                "item stopped by its handler: its job was cancelled",
                extra={
                    "job_id": event.job_id,
                    "job_type": event.job_type,
                    "attempt": event.attempt,
                },
            )
        elif outcome.kind == COMPLETED:
            emit(self.pm, "workq_item_succeeded", replace(event, duration_ms=outcome.duration_ms))
        else:
            asked = isinstance(outcome.error, RetryLater)
            logger.log(
                logging.INFO if asked else logging.WARNING,
                "item retry requested by its handler"
                if asked
                else "item attempt failed; will retry",
                extra={
                    "job_id": event.job_id,
                    "job_type": event.job_type,
                    "attempt": event.attempt,
                    "retry_in_ms": outcome.retry_in_ms,
                    "error_type": type(outcome.error).__name__,
                },
            )
            failed = replace(
                event,
                error=str(outcome.error),
                retry_in_ms=outcome.retry_in_ms,
                duration_ms=outcome.duration_ms,
            )
            emit(self.pm, "workq_item_failed", failed)

    def _dead_letter(
        self,
        receiver: Receiver,
        dead: list[tuple[Claim, Delivery]],
        settled: set[int],
        spans: AttemptSpans,
        run_ms: dict[int, float | None],
    ) -> None:
        """Publish each to the dead-letter topic, record that it is there, then ack it.

        In that order, a process that dies at any point leaves the message to
        be delivered again: before the record, the next claim asks the
        transport to send it only if it is not in the topic yet; after it,
        the message is settled without sending. So each reaches the topic
        once and is recorded once.
        """
        for claim, delivery in dead:
            logger.warning(
                "item dead-lettered",
                extra={
                    "job_id": claim.job_id,
                    "item_index": claim.index,
                    "job_type": claim.job_type,
                    "attempt": claim.attempt,
                },
            )
            receiver.dead_letter(
                delivery, _dead_letter_properties(claim), maybe_sent=claim.maybe_sent
            )
        if not dead:
            return
        fault_point(AFTER_DEAD_LETTER_PUBLISH)
        attempts.mark_dead_lettered(self.db, [claim.item_id for claim, _ in dead])
        fault_point(AFTER_DEAD_LETTER_RECORD)
        for _claim, delivery in dead:
            receiver.ack(delivery)
            settled.add(id(delivery))
        for claim, _ in dead:
            event = replace(
                _event(claim), error=claim.last_error, duration_ms=run_ms.get(claim.item_id)
            )
            with spans.active(claim.item_id):
                emit(self.pm, "workq_item_dead", event)

    def release_in_flight(self) -> int:
        """Hand back items still running when shutdown's grace ran out."""
        stuck = self.running.snapshot()
        for attempt in stuck:
            with self.db.connection_context():
                attempts.release(self.db, attempt.claim, running=attempt.running)
        return len(stuck)


def _key(claim: Claim) -> str:
    return idempotency_key(claim.job_id, claim.index)


def _event(claim: Claim) -> ItemEvent:
    return ItemEvent(
        job_id=claim.job_id,
        job_type=claim.job_type,
        item_index=claim.index,
        attempt=claim.attempt,
        max_attempts=claim.max_attempts,
    )


def _error_fields(error: BaseException | None) -> dict[str, Any]:
    name = type(error).__name__
    return {"error_type": name, "last_error": f"{name}: {error}"}


def _dead_letter_properties(claim: Claim) -> dict[str, str]:
    return {
        "error_type": claim.error_type or "Error",
        "error_message": (claim.last_error or "")[: attempts.MAX_ERROR_TEXT],
        "attempts": str(claim.attempt),
        # One item's death: the same for every try at sending it, new if it is re-run and dies.
        DEAD_LETTER_KEY: f"{claim.item_id}@{claim.claimed_at}",
    }
