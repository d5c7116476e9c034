"""Is a dead letter already in its topic? Read the topic from its start, only after a crash.

The core asks (``maybe_sent``) only when an executor died between committing
an item dead and recording its dead letter, so this full read is rare; its
cost grows with what the dead-letter topic retains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pulsar

from workq_core import DEAD_LETTER_KEY, TransportError

OpenReader = Callable[[str], pulsar.Reader]
# How long an empty topic on pulsar-lite is given to hand over a first message.
EMPTY_WAIT_MS = 2000


def holds(open_reader: OpenReader, topic: str, key: str, timeout_ms: int) -> bool:
    """True if a message of ``topic`` has ``key`` as its dead-letter key."""
    try:
        reader = open_reader(topic)
    except pulsar.PulsarException as exc:
        raise TransportError(f"cannot read {topic}: {exc}") from exc
    try:
        return any(
            m.properties().get(DEAD_LETTER_KEY) == key for m in _messages(reader, timeout_ms)
        )
    except pulsar.PulsarException as exc:
        raise TransportError(f"reading {topic} failed: {exc}") from exc
    finally:
        reader.close()


def _messages(reader: pulsar.Reader, timeout_ms: int) -> Iterator[pulsar.Message]:
    """The topic's messages, from the reader's start to the end it has now.

    pulsar-lite refuses an empty topic's last message id (``UnknownError``,
    "Topic has no messages") where Apache Pulsar answers that there is none,
    so before anything is read that error is told apart by reading: an empty
    topic hands over nothing within ``EMPTY_WAIT_MS``. Without this, a dead
    letter whose topic was still empty could never be sent after a crash.
    """
    try:
        available = reader.has_message_available()
    except pulsar.UnknownError:
        try:
            yield reader.read_next(min(timeout_ms, EMPTY_WAIT_MS))
        except pulsar.Timeout:
            return
        available = reader.has_message_available()
    while available:
        yield reader.read_next(timeout_ms)
        available = reader.has_message_available()
