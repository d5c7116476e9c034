"""The in-memory transport keeps the transport contract of docs/plugins.md."""

from __future__ import annotations

import threading
import time

import pytest

from workq_core import (
    DEAD_LETTER_KEY,
    Delivery,
    OutgoingMessage,
    Receiver,
    Transport,
    TransportError,
)
from workq_core.runtime import bootstrap
from workq_core.testing import IN_MEMORY, InMemoryBroker, InMemoryPlugin, InMemoryTransport


def messages(count: int, prefix: str = "m") -> list[OutgoingMessage]:
    return [
        OutgoingMessage(f"{prefix}{n}", f"{prefix}{n}".encode(), {"n": str(n)})
        for n in range(count)
    ]


@pytest.fixture
def broker() -> InMemoryBroker:
    return InMemoryBroker(nack_delay_s=0.0)


@pytest.fixture
def transport(broker: InMemoryBroker) -> InMemoryTransport:
    transport = InMemoryTransport(broker)
    transport.declare(["Echo"])
    return transport


def test_it_implements_the_protocols_and_is_chosen_by_configuration():
    # Given the kit's plugin loaded beside the installed ones, and transport.name naming it
    plugin = InMemoryPlugin()
    runtime = bootstrap(
        env={"WORKQ_TRANSPORT_NAME": IN_MEMORY}, extra_plugins=[(IN_MEMORY, plugin)]
    )

    # When a service builds its transport by name
    transport = runtime.transport()
    transport.declare(["Echo"])
    transport.publish("Echo", messages(1))
    receiver = transport.subscribe(["Echo"])
    delivery = receiver.receive(1.0)

    # Then it is the in-memory one, on the plugin's broker, and every piece fits its protocol
    assert isinstance(transport, InMemoryTransport) and transport.broker is plugin.broker
    assert isinstance(transport, Transport)
    assert isinstance(receiver, Receiver)
    assert isinstance(delivery, Delivery)
    receiver.ack(delivery)
    transport.close()


def test_published_messages_are_received_once_then_acked(broker, transport):
    # Given three published messages
    transport.publish("Echo", messages(3))
    receiver = transport.subscribe(["Echo"])

    # When they are received and acknowledged
    got = [receiver.receive(1.0) for _ in range(3)]
    for delivery in got:
        receiver.ack(delivery)

    # Then each came once, in order, with its properties, and nothing is left
    assert [d.payload for d in got] == [b"m0", b"m1", b"m2"]
    assert got[1].properties == {"n": "1"} and got[1].job_type == "Echo"
    assert receiver.receive(0.0) is None
    assert broker.pending("Echo") == 0


def test_a_nacked_message_comes_back_to_any_receiver(transport):
    # Given two receivers on one shared subscription, and one message
    first, second = transport.subscribe(["Echo"]), transport.subscribe(["Echo"])
    transport.publish("Echo", messages(1))
    delivery = first.receive(1.0)

    # When the first gives it back
    first.nack(delivery)

    # Then it is deliverable again, to the other receiver too
    again = second.receive(1.0)
    assert again is not None and again.payload == delivery.payload
    second.ack(again)


def test_a_nack_waits_the_brokers_nack_delay():
    # Given a broker with a 200 ms negative-ack delay
    transport = InMemoryTransport(InMemoryBroker(nack_delay_s=0.2))
    transport.declare(["Echo"])
    transport.publish("Echo", messages(1))
    receiver = transport.subscribe(["Echo"])

    # When a message is nacked
    delivery = receiver.receive(1.0)
    started = time.monotonic()
    receiver.nack(delivery)

    # Then it is not back before the delay, and is soon after
    assert receiver.receive(0.05) is None
    assert receiver.receive(1.0) is not None
    assert time.monotonic() - started >= 0.2


def test_dead_letters_keep_the_message_with_both_sets_of_properties(broker, transport):
    # Given a received message
    transport.publish("Echo", messages(1))
    receiver = transport.subscribe(["Echo"])
    delivery = receiver.receive(1.0)

    # When it is dead-lettered, then acked (as the core does once it recorded that)
    receiver.dead_letter(delivery, {"error_type": "KeyError", "attempts": "3"})
    receiver.ack(delivery)

    # Then the dead letter is kept, inspectable, and the message is settled
    [letter] = broker.dead_letters("Echo")
    assert (letter.topic, letter.key, letter.payload) == ("Echo-DLQ", "m0", b"m0")
    assert letter.properties == {"n": "0", "error_type": "KeyError", "attempts": "3"}
    assert broker.pending("Echo") == 0 and receiver.receive(0.0) is None


def test_a_dead_letter_that_may_have_been_sent_is_sent_only_if_absent(broker, transport):
    # Given a dead letter sent, its message not yet acked
    transport.publish("Echo", messages(1))
    receiver = transport.subscribe(["Echo"])
    delivery = receiver.receive(1.0)
    receiver.dead_letter(delivery, {DEAD_LETTER_KEY: "7@1"})

    # When it is sent again as maybe sent, and another death of that item too
    receiver.dead_letter(delivery, {DEAD_LETTER_KEY: "7@1"}, maybe_sent=True)
    receiver.dead_letter(delivery, {DEAD_LETTER_KEY: "7@2"}, maybe_sent=True)

    # Then each death is in the dead letters once
    keys = [d.properties[DEAD_LETTER_KEY] for d in broker.dead_letters("Echo")]
    assert keys == ["7@1", "7@2"]


def test_a_delivery_is_settled_exactly_once(transport):
    # Given a message received, nacked, and received again
    transport.publish("Echo", messages(1))
    receiver = transport.subscribe(["Echo"])
    first = receiver.receive(1.0)
    receiver.nack(first)
    second = receiver.receive(1.0)

    # When the second delivery is acked
    receiver.ack(second)

    # Then neither delivery can be settled again, in any way
    for delivery in (first, second):
        for settle in (receiver.ack, receiver.nack, lambda d: receiver.dead_letter(d, {})):
            with pytest.raises(TransportError, match="already settled"):
                settle(delivery)


def test_publishing_to_an_undeclared_topic_is_an_error_not_a_drop(transport):
    with pytest.raises(TransportError, match="never declared"):
        transport.publish("Nobody", messages(1))


def test_threads_sharing_a_receiver_get_each_message_exactly_once(transport):
    # Given 1,000 messages on two topics and eight threads on one receiver
    transport.declare(["Other"])
    transport.publish("Echo", messages(500, "e"))
    transport.publish("Other", messages(500, "o"))
    receiver = transport.subscribe(["Echo", "Other"])
    got: list[bytes] = []
    lock = threading.Lock()

    def consume() -> None:
        while (delivery := receiver.receive(0.2)) is not None:
            receiver.ack(delivery)
            with lock:
                got.append(delivery.payload)

    # When they consume until nothing is left
    threads = [threading.Thread(target=consume) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # Then every message arrived once
    assert len(got) == 1000 and len(set(got)) == 1000


def test_transports_of_one_broker_share_topics(broker, transport):
    # Given a second connection to the same broker (the executor's, say)
    other = InMemoryTransport(broker)
    receiver = other.subscribe(["Echo"])

    # When the first publishes
    transport.publish("Echo", messages(1))

    # Then the second receives it
    assert receiver.receive(1.0).payload == b"m0"


def test_closing_returns_a_blocked_receive_at_once_and_lets_held_messages_settle(transport):
    # Given a receiver holding one message, and a thread blocked in a long receive
    transport.publish("Echo", messages(1))
    receiver = transport.subscribe(["Echo"])
    held = receiver.receive(1.0)
    outcome: list[object] = []

    def blocked() -> None:
        try:
            outcome.append(receiver.receive(30.0))
        except TransportError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=blocked)
    thread.start()
    time.sleep(0.05)

    # When the transport closes
    started = time.monotonic()
    transport.close()
    thread.join(5)

    # Then the blocked receive ended at once, the held message can still be settled,
    # and the closed transport refuses new work
    assert time.monotonic() - started < 1.0
    assert isinstance(outcome[0], TransportError)
    receiver.ack(held)
    with pytest.raises(TransportError, match="closed"):
        transport.publish("Echo", messages(1))
    transport.close()  # idempotent
