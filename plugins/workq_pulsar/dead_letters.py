"""Is a dead letter already in its topic? Read the topic from its start, only after a crash.

The core asks (``maybe_sent``) only when an executor died between publishing
a dead letter and recording it, so this full read is rare; its cost grows
with what the dead-letter topic retains.
"""

from __future__ import annotations

from collections.abc import Callable

import pulsar

from workq_core import DEAD_LETTER_KEY, TransportError

OpenReader = Callable[[str], pulsar.Reader]


def holds(open_reader: OpenReader, topic: str, key: str, timeout_ms: int) -> bool:
    """True if a message of ``topic`` has ``key`` as its dead-letter key."""
    try:
        reader = open_reader(topic)
    except pulsar.PulsarException as exc:
        raise TransportError(f"cannot read {topic}: {exc}") from exc
    try:
        while reader.has_message_available():
            message = reader.read_next(timeout_ms)
            if message.properties().get(DEAD_LETTER_KEY) == key:
                return True
        return False
    except pulsar.PulsarException as exc:
        raise TransportError(f"reading {topic} failed: {exc}") from exc
    finally:
        reader.close()
