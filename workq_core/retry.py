"""Exponential backoff with jitter, and which retry policy applies to a job type."""

from __future__ import annotations

import random

from workq_core.config import ExecutorSettings
from workq_core.types import JobType, RetryPolicy

JITTER = 0.25


def backoff_ms(policy: RetryPolicy, failed_attempt: int, rand: random.Random | None = None) -> int:
    """Delay before the attempt after ``failed_attempt`` (1-based).

    ``base * 2**(n-1)`` capped at ``max_delay_ms``, plus up to 25% jitter (still
    capped), so the spacing is never below the configured delay and retries of
    many items spread out instead of arriving in waves.
    """
    delay = min(policy.max_delay_ms, policy.base_delay_ms * 2 ** max(0, failed_attempt - 1))
    jitter = (rand or random).uniform(0, delay * JITTER)
    return int(min(policy.max_delay_ms, delay + jitter))


def policy_for(job_type: JobType, defaults: ExecutorSettings) -> RetryPolicy:
    """The job type's own ``retry`` policy, or the executor's configured one."""
    if job_type.retry is not None:
        return job_type.retry
    return RetryPolicy(
        max_attempts=defaults.max_attempts,
        base_delay_ms=defaults.base_delay_ms,
        max_delay_ms=max(defaults.max_delay_ms, defaults.base_delay_ms),
    )
