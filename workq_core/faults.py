"""Test hook: die at a named point of the pipeline (``WORKQ_FAULT_POINT``); off by default.

The fault harness (tests/fault) sets ``WORKQ_FAULT_POINT`` to one of
``POINTS`` and, optionally, ``WORKQ_FAULT_AFTER=N``; the process then exits
with status 137 (as after SIGKILL, no cleanup) the N-th time it reaches that
point. Both are read once, when this module is imported. Unset, every call
is one string comparison and nothing else. Never set them in production.
"""

from __future__ import annotations

import os
import threading

AFTER_COMMIT_BEFORE_ACK = "after_commit_before_ack"  # executor: outcomes committed, not acked
AFTER_CLAIM_BEFORE_PUBLISH = "after_claim_before_publish"  # relay: outbox claimed, not published
IN_SCHEDULE_FIRE = "in_schedule_fire"  # scheduler: a run's job inserted, not committed
AFTER_DEAD_LETTER_PUBLISH = "after_dead_letter_publish"  # executor: in the DLQ, not recorded
AFTER_DEAD_LETTER_RECORD = "after_dead_letter_record"  # executor: recorded, message not acked
IN_RECOVERED_ATTEMPT = "in_recovered_attempt"  # executor: a recovered item marked running
POINTS = frozenset(
    {
        IN_RECOVERED_ATTEMPT,
        AFTER_COMMIT_BEFORE_ACK,
        AFTER_CLAIM_BEFORE_PUBLISH,
        IN_SCHEDULE_FIRE,
        AFTER_DEAD_LETTER_PUBLISH,
        AFTER_DEAD_LETTER_RECORD,
    }
)

_POINT = os.environ.get("WORKQ_FAULT_POINT", "")
_AFTER = max(1, int(os.environ.get("WORKQ_FAULT_AFTER", "1") or "1"))
_hits = 0
_lock = threading.Lock()


def fault_point(name: str) -> None:
    """Exit the process right here if the harness asked for a crash at ``name``."""
    global _hits
    if name != _POINT:
        return
    with _lock:
        _hits += 1
        if _hits >= _AFTER:
            os._exit(137)
