"""One delivery, start to finish: claim in the database, run, commit, then settle."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import peewee

from workq_core.config import Settings
from workq_core.db import database_errors
from workq_core.errors import InvalidPayload, Unavailable
from workq_core.events import ItemEvent
from workq_core.jobs import execution
from workq_core.jobs.execution import Claim, Verdict
from workq_core.jobs.messages import BadMessage, ItemRef, decode
from workq_core.lifecycle import emit
from workq_core.pluginmanager import WorkqPluginManager
from workq_core.registry import Registry
from workq_core.retry import backoff_ms, policy_for
from workq_core.types import DedupStore, Delivery, JobContext, JobType, Receiver, Transport
from workq_core.validation import validate_items

logger = logging.getLogger(__name__)

LEASE_MS = 60_000


@dataclass
class ItemHandler:
    """Runs items exactly as the delivery semantics promise.

    The attempt is counted in the database before the handler runs; the
    message is acknowledged only after the outcome is committed; a completed
    item's idempotency key goes to the dedup store so a redelivery is
    acknowledged without running again.
    """

    db: peewee.Database
    transport: Transport
    dedup: DedupStore
    job_types: Registry[JobType]
    pm: WorkqPluginManager
    settings: Settings
    lease_ms: int = LEASE_MS
    in_flight: dict[int, tuple[Claim, Delivery]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, receiver: Receiver, delivery: Delivery) -> None:
        try:
            ref = decode(delivery.payload, delivery.properties)
        except BadMessage as exc:
            logger.error("dead-lettering a message that is not an item", extra={"error": str(exc)})
            self.transport.dead_letter(
                receiver, delivery, {"error_type": "BadMessage", "error_message": str(exc)}
            )
            return
        if self.dedup.seen(ref.idempotency_key):
            receiver.ack(delivery)
            return
        try:
            with database_errors(), self.db.connection_context():
                self._handle(receiver, delivery, ref)
        except Unavailable:
            logger.warning("database unavailable; item released", extra={"job_id": ref.job_id})
            receiver.nack(delivery)

    def _handle(self, receiver: Receiver, delivery: Delivery, ref: ItemRef) -> None:
        claim = execution.claim(self.db, ref, self.lease_ms)
        if claim.verdict is Verdict.RUN:
            self._run(receiver, delivery, claim)
        elif claim.verdict is Verdict.BUSY:
            receiver.nack(delivery)
        elif claim.verdict is Verdict.DEAD_LETTER:
            self._dead_letter(receiver, delivery, claim)
        else:
            if claim.verdict is Verdict.MISSING:
                logger.warning(
                    "message for an item that does not exist", extra={"job_id": ref.job_id}
                )
            receiver.ack(delivery)

    def _run(self, receiver: Receiver, delivery: Delivery, claim: Claim) -> None:
        job_type = self.job_types.get(claim.job_type)
        event = self._event(claim)
        emit(self.pm, "workq_item_started", event)
        with self._lock:
            self.in_flight[threading.get_ident()] = (claim, delivery)
        started = time.perf_counter()
        try:
            result = self._call(job_type, claim)
        except InvalidPayload as exc:
            self._finish_dead(receiver, delivery, claim, exc, event)
        except Exception as exc:
            self._failed(receiver, delivery, claim, job_type, exc, event)
        else:
            duration = (time.perf_counter() - started) * 1000
            if execution.complete(self.db, claim, result):
                self.dedup.mark(f"{claim.job_id}:{claim.index}", self.settings.executor.dedup_ttl_s)
                emit(self.pm, "workq_item_succeeded", _with(event, duration_ms=duration))
            receiver.ack(delivery)
        finally:
            with self._lock:
                self.in_flight.pop(threading.get_ident(), None)

    def _call(self, job_type: JobType, claim: Claim) -> Any:
        validate_items(job_type, [claim.data])
        ctx = JobContext(
            job_id=claim.job_id,
            item_index=claim.index,
            attempt=claim.attempt,
            idempotency_key=f"{claim.job_id}:{claim.index}",
        )
        return job_type.run(claim.data, ctx)

    def _failed(
        self,
        receiver: Receiver,
        delivery: Delivery,
        claim: Claim,
        job_type: JobType,
        exc: Exception,
        event: ItemEvent,
    ) -> None:
        if claim.attempt >= claim.max_attempts:
            self._finish_dead(receiver, delivery, claim, exc, event)
            return
        delay = backoff_ms(policy_for(job_type, self.settings.executor), claim.attempt)
        logger.warning(
            "item attempt failed; will retry",
            extra={
                "job_id": claim.job_id,
                "job_type": claim.job_type,
                "attempt": claim.attempt,
                "retry_in_ms": delay,
                "error_type": type(exc).__name__,
            },
        )
        if execution.fail(self.db, claim, exc, delay):
            emit(self.pm, "workq_item_failed", _with(event, error=str(exc), retry_in_ms=delay))
        receiver.ack(delivery)

    def _finish_dead(
        self, receiver: Receiver, delivery: Delivery, claim: Claim, exc: Exception, event: ItemEvent
    ) -> None:
        if execution.fail(self.db, claim, exc, None):
            error = Claim(
                **{
                    **claim.__dict__,
                    "error_type": type(exc).__name__,
                    "last_error": f"{type(exc).__name__}: {exc}",
                }
            )
            self._dead_letter(receiver, delivery, error)
            emit(self.pm, "workq_item_dead", _with(event, error=str(exc)))
        else:
            receiver.ack(delivery)

    def _dead_letter(self, receiver: Receiver, delivery: Delivery, claim: Claim) -> None:
        """Publish to the dead-letter topic, then record that it is there."""
        logger.warning(
            "item dead-lettered",
            extra={"job_id": claim.job_id, "job_type": claim.job_type, "attempt": claim.attempt},
        )
        self.transport.dead_letter(
            receiver,
            delivery,
            {
                "error_type": claim.error_type or "Error",
                "error_message": (claim.last_error or "")[: execution.MAX_ERROR_TEXT],
                "attempts": str(claim.attempt),
            },
        )
        execution.mark_dead_lettered(self.db, claim.item_id)

    def release_in_flight(self) -> int:
        """Hand back items still running when shutdown's grace ran out."""
        with self._lock:
            stuck = list(self.in_flight.values())
        for claim, _delivery in stuck:
            with self.db.connection_context():
                execution.release(self.db, claim)
        return len(stuck)

    @staticmethod
    def _event(claim: Claim) -> ItemEvent:
        return ItemEvent(
            job_id=claim.job_id,
            job_type=claim.job_type,
            item_index=claim.index,
            attempt=claim.attempt,
            max_attempts=claim.max_attempts,
        )


def _with(event: ItemEvent, **changes: Any) -> ItemEvent:
    return ItemEvent(**{**event.__dict__, **changes})
