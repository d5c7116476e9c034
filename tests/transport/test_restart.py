"""Producers and consumers survive a broker crash and restart; stored messages survive too."""

from __future__ import annotations

import time

import pytest

from workq_core import OutgoingMessage, TransportError


def test_broker_kill_and_restart_keeps_messages_and_resumes(broker, make_transport, job_type):
    # Given a producer and a consumer, and stored messages
    transport = make_transport(operation_timeout_s=30)
    transport.declare([job_type])
    receiver = transport.subscribe([job_type])
    transport.publish(job_type, [OutgoingMessage(f"b{i}", f"b{i}".encode()) for i in range(5)])
    # When the broker is killed and started again on the same port and data
    broker.crash_and_restart()
    # Then publishing resumes on the same producer ...
    transport.publish(job_type, [OutgoingMessage(f"a{i}", f"a{i}".encode()) for i in range(5)])
    # ... and the same receiver gets the old and the new messages
    seen: set[bytes] = set()
    deadline = time.monotonic() + 60
    while len(seen) < 10 and time.monotonic() < deadline:
        delivery = receiver.receive(0.5)
        if delivery is not None:
            seen.add(delivery.payload)  # at-least-once: a prefetched copy may repeat
            receiver.ack(delivery)
    expected = {f"b{i}".encode() for i in range(5)} | {f"a{i}".encode() for i in range(5)}
    assert seen == expected


def test_publish_while_broker_is_down_raises_naming_the_failed_count(
    broker, make_transport, job_type
):
    # Given a producer whose broker has died
    transport = make_transport(send_timeout_ms=500)
    transport.publish(job_type, [OutgoingMessage("k", b"first")])
    broker.process.kill()
    try:
        # When a batch is published
        batch = [OutgoingMessage(str(i), b"x") for i in range(3)]
        # Then publish raises rather than dropping silently, and says how many failed
        with pytest.raises(TransportError, match=r"3 of 3 messages .* were not confirmed"):
            transport.publish(job_type, batch)
    finally:
        broker.process.start()
