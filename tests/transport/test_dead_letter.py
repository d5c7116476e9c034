"""Dead letters land on <topic>-DLQ with their properties and are kept until read."""

from __future__ import annotations

from workq_core import OutgoingMessage


def test_dead_letter_moves_message_with_properties_to_dlq(make_transport, job_type):
    # Given a declared job type (which also declares its DLQ subscription)
    transport = make_transport()
    transport.declare([job_type])
    transport.publish(job_type, [OutgoingMessage("k1", b"payload", {"attempt": "5", "job": "j1"})])
    receiver = transport.subscribe([job_type])
    delivery = receiver.receive(5)
    assert delivery is not None
    # When it is dead-lettered with error details
    receiver.dead_letter(delivery, {"error": "boom", "attempt": "6"})
    # Then the original is acknowledged (never redelivered) ...
    assert receiver.receive(0.5) is None
    # ... and the DLQ subscription holds it with old and new properties merged
    dead = make_transport().subscribe_dead_letters([job_type]).receive(5)
    assert dead is not None
    assert dead.payload == b"payload"
    assert dead.job_type == job_type
    assert dict(dead.properties) == {"attempt": "6", "job": "j1", "error": "boom"}
    assert dead.topic == transport.names.dlq(job_type)
