"""Dead letters land on <topic>-DLQ with their properties and are kept until read."""

from __future__ import annotations

from workq_core import DEAD_LETTER_KEY, Delivery, OutgoingMessage, Receiver


def test_dead_letter_moves_message_with_properties_to_dlq(make_transport, job_type):
    # Given a declared job type (which also declares its DLQ subscription)
    transport = make_transport()
    transport.declare([job_type])
    transport.publish(job_type, [OutgoingMessage("k1", b"payload", {"attempt": "5", "job": "j1"})])
    receiver = transport.subscribe([job_type])
    delivery = receiver.receive(5)
    assert delivery is not None
    # When it is dead-lettered with error details, then acked
    receiver.dead_letter(delivery, {"error": "boom", "attempt": "6"})
    receiver.ack(delivery)
    # Then the original is never redelivered ...
    assert receiver.receive(0.5) is None
    # ... and the DLQ subscription holds it with old and new properties merged
    dead = make_transport().subscribe_dead_letters([job_type]).receive(5)
    assert dead is not None
    assert dead.payload == b"payload"
    assert dead.job_type == job_type
    assert dict(dead.properties) == {"attempt": "6", "job": "j1", "error": "boom"}
    assert dead.topic == transport.names.dlq(job_type)


def test_a_dead_letter_that_may_have_been_sent_is_not_sent_twice(make_transport, job_type):
    # Given a dead letter in the DLQ whose sender died before acking its message
    receiver, delivery = one_delivery(make_transport(), job_type)
    receiver.dead_letter(delivery, {DEAD_LETTER_KEY: "1@100"})

    # When the next try sends it as maybe sent, and a later death of the item too
    receiver.dead_letter(delivery, {DEAD_LETTER_KEY: "1@100"}, maybe_sent=True)
    receiver.dead_letter(delivery, {DEAD_LETTER_KEY: "1@200"}, maybe_sent=True)
    receiver.ack(delivery)

    # Then the DLQ holds each death once
    assert dead_letter_keys(make_transport(), job_type) == ["1@100", "1@200"]


def test_a_dead_letter_that_may_have_been_sent_to_an_empty_dlq_is_sent(make_transport, job_type):
    # Given a dead item whose executor died before sending its dead letter: the DLQ is empty
    receiver, delivery = one_delivery(make_transport(), job_type)

    # When the next try sends it as maybe sent (pulsar-lite refuses an empty topic's last id)
    receiver.dead_letter(delivery, {DEAD_LETTER_KEY: "1@100"}, maybe_sent=True)
    receiver.ack(delivery)

    # Then the DLQ holds it once
    assert dead_letter_keys(make_transport(), job_type) == ["1@100"]


def one_delivery(transport, job_type: str) -> tuple[Receiver, Delivery]:
    """A receiver holding the one message published to a fresh job type's topic."""
    transport.declare([job_type])
    transport.publish(job_type, [OutgoingMessage("k1", b"payload", {"job": "j1"})])
    receiver = transport.subscribe([job_type])
    delivery = receiver.receive(5)
    assert delivery is not None
    return receiver, delivery


def dead_letter_keys(transport, job_type: str) -> list[str]:
    """The dead-letter keys of everything in the job type's DLQ, in order."""
    dlq = transport.subscribe_dead_letters([job_type])
    keys = []
    while (dead := dlq.receive(2)) is not None:
        keys.append(dead.properties[DEAD_LETTER_KEY])
        dlq.ack(dead)
    return keys
