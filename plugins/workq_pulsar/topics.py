"""Job type <-> topic names: deterministic, valid for Pulsar, never colliding."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

TOPIC_PREFIX = "workq."
DLQ_SUFFIX = "-DLQ"
_NOT_ALLOWED = re.compile(r"[^-=:.\w]|[^\x00-\x7f]")


def topic_local_name(job_type: str) -> str:
    """``workq.<job_type>``, with characters Pulsar rejects replaced.

    A name that had to change gets a short hash of the original appended, so
    two job types never share a topic however similar their names.
    """
    clean = _NOT_ALLOWED.sub("_", job_type)
    # A job type named like another's dead-letter topic must not become it.
    if clean != job_type or not clean or clean.endswith(DLQ_SUFFIX):
        digest = hashlib.sha256(job_type.encode("utf-8")).hexdigest()[:8]
        clean = f"{clean}-{digest}"
    return TOPIC_PREFIX + clean


class TopicNames:
    """Full topic names under one tenant/namespace, and the way back to job types."""

    def __init__(self, tenant: str, namespace: str) -> None:
        self.base = f"persistent://{tenant}/{namespace}/"
        self._job_types: dict[str, str] = {}

    def topic(self, job_type: str) -> str:
        name = self.base + topic_local_name(job_type)
        self._job_types.setdefault(name, job_type)
        return name

    def dlq(self, job_type: str) -> str:
        return self.topic(job_type) + DLQ_SUFFIX

    def topics(self, job_types: Iterable[str], *, dlq: bool = False) -> list[str]:
        return [self.dlq(t) if dlq else self.topic(t) for t in job_types]

    def job_type(self, topic: str) -> str:
        """The job type a (main or DLQ) topic belongs to; KeyError if never named here."""
        if topic.endswith(DLQ_SUFFIX):
            topic = topic[: -len(DLQ_SUFFIX)]
        return self._job_types[topic.split("-partition-")[0]]
