"""Job ids: the canonical text of a random UUID, minted at submission."""

from __future__ import annotations

import re
import uuid

# Anything else cannot name a job, so it never reaches SQL (PostgreSQL refuses
# NUL in text, for one, with a driver error).
_JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_job_id() -> str:
    return str(uuid.uuid4())


def is_job_id(value: str) -> bool:
    """Whether ``value`` has the form of a job id (another user's id still reads as missing)."""
    return bool(_JOB_ID.match(value))
