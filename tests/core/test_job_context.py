"""JobContext's heartbeat and cancellation: detached by default, the executor's attempt when run."""

from __future__ import annotations

from workq_core import JobContext
from workq_core.executor.attempts import Claim, Verdict
from workq_core.executor.running import RunningAttempt


def test_a_context_built_without_an_executor_has_a_no_op_heartbeat_and_is_never_cancelled():
    ctx = JobContext(job_id="j", item_index=0, attempt=1, idempotency_key="j:0")
    ctx.heartbeat()
    assert ctx.cancelled is False
    assert ctx == JobContext("j", 0, 1, "j:0")  # the control takes no part in equality


def test_heartbeats_and_cancellation_reach_the_running_attempt():
    attempt = RunningAttempt(Claim(Verdict.RUN, item_id=1, job_id="j", attempt=1))
    ctx = JobContext("j", 0, 1, "j:0", control=attempt)

    # Before any heartbeat a handler is never taken as stalled: it declared none
    assert not attempt.stalled(now=1e12, lease_s=1.0)
    ctx.heartbeat()
    assert attempt.last_beat is not None
    assert not attempt.stalled(now=attempt.last_beat + 0.5, lease_s=1.0)
    assert attempt.stalled(now=attempt.last_beat + 1.5, lease_s=1.0)

    # Cancellation counts as seen only once the handler read it true
    assert ctx.cancelled is False and not attempt.saw_cancel
    attempt.cancel_requested = True
    assert not attempt.saw_cancel
    assert ctx.cancelled is True and attempt.saw_cancel
