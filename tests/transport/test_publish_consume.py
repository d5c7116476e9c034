"""Publishing and consuming through a real pulsar-lite broker."""

from __future__ import annotations

import threading
import time
from collections import Counter

from workq_core import Delivery, OutgoingMessage, Receiver
from workq_pulsar.receiver import PulsarDelivery


def drain(receiver: Receiver, expected: int, timeout_s: float = 10.0) -> list[Delivery]:
    """Receive and ack until ``expected`` arrived or the time is up."""
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expected and time.monotonic() < deadline:
        delivery = receiver.receive(0.5)
        if delivery is not None:
            receiver.ack(delivery)
            got.append(delivery)
    return got


def messages(n: int, prefix: str = "m") -> list[OutgoingMessage]:
    return [
        OutgoingMessage(f"{prefix}{i}", f"{prefix}{i}".encode(), {"i": str(i)}) for i in range(n)
    ]


def test_publish_then_consume_after_declare(make_transport, job_type):
    # Given a declared job type and a subscribed receiver
    transport = make_transport()
    transport.declare([job_type])
    receiver = transport.subscribe([job_type])
    # When messages are published
    transport.publish(job_type, messages(3))
    # Then each arrives once with its job type, payload and properties
    got = drain(receiver, 3)
    assert sorted(d.payload for d in got) == [b"m0", b"m1", b"m2"]
    first = next(d for d in got if d.payload == b"m0")
    assert isinstance(first, PulsarDelivery)
    assert (first.job_type, dict(first.properties), first.redelivery_count) == (
        job_type,
        {"i": "0"},
        0,
    )
    assert receiver.receive(0.3) is None


def test_messages_published_before_any_consumer_are_delivered(make_transport, job_type):
    # Given a declared subscription and messages published while nobody consumes
    publisher = make_transport()
    publisher.declare([job_type])
    publisher.publish(job_type, messages(5))
    # When an executor (another client) subscribes afterwards
    receiver = make_transport().subscribe([job_type])
    # Then it gets everything published earlier
    assert sorted(d.payload for d in drain(receiver, 5)) == [f"m{i}".encode() for i in range(5)]


def test_batch_of_1000_confirmed_and_received_exactly_once_by_threads(make_transport, job_type):
    # Given a declared job type
    transport = make_transport()
    transport.declare([job_type])
    # When 1,000 messages are published in one call
    started = time.perf_counter()
    transport.publish(job_type, messages(1000))
    elapsed = time.perf_counter() - started
    print(f"published 1000 in {elapsed * 1000:.0f} ms ({1000 / elapsed:.0f} msg/s)")
    # Then four threads sharing one receiver get each message exactly once
    receiver = transport.subscribe([job_type])
    counts: Counter[bytes] = Counter()
    lock = threading.Lock()

    def work() -> None:
        for delivery in drain(receiver, 1000, timeout_s=3):
            with lock:
                counts[delivery.payload] += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counts) == 1000
    assert set(counts.values()) == {1}


def test_receive_waiting_in_one_thread_does_not_block_another(make_transport, job_type):
    # Given a thread blocked in receive on an empty topic
    transport = make_transport()
    transport.declare([job_type])
    receiver = transport.subscribe([job_type])
    waiter = threading.Thread(target=receiver.receive, args=(3.0,))
    waiter.start()
    time.sleep(0.1)
    # When the main thread publishes and receives meanwhile
    started = time.monotonic()
    transport.publish(job_type, messages(2))
    got = drain(receiver, 1, timeout_s=2)
    # Then it is not held up by the waiting thread (the GIL is released)
    assert got and time.monotonic() - started < 1.5
    waiter.join()


def test_nack_leads_to_redelivery_with_count(make_transport, job_type):
    # Given a received message
    transport = make_transport(nack_delay_ms=100)
    transport.declare([job_type])
    receiver = transport.subscribe([job_type])
    transport.publish(job_type, messages(1))
    first = receiver.receive(5)
    assert first is not None and first.redelivery_count == 0
    # When it is negatively acknowledged
    receiver.nack(first)
    # Then it comes back after the nack delay, counted as a redelivery
    again = receiver.receive(5)
    assert again is not None
    assert (again.payload, again.redelivery_count) == (b"m0", 1)
    receiver.ack(again)
