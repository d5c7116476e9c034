"""pulsar-lite's stalled-consumer guard: when it swaps a consumer, and that nothing is lost by it.

The stall itself (pulsar-lite no longer dispatching to a surviving consumer
after SIGKILLs) shows only in the heavy fault form; here a second client
that takes the messages makes a publish go undelivered to the guarded
receiver, which is what the guard sees in a stall.
"""

from __future__ import annotations

import logging
import time
import uuid

import pytest

from tests.transport.test_publish_consume import drain, messages
from workq_pulsar import PulsarTransport, lite_shim
from workq_pulsar import receiver as receiver_module
from workq_pulsar.lite_shim import StallGuard

SWAPPED = "pulsar-lite stopped dispatching to this consumer; subscribed a new one"


def test_a_publish_left_undelivered_past_the_wait_asks_for_one_swap():
    guard = StallGuard(["t"], stall_s=0.2)
    assert not guard.should_resubscribe()  # nothing published: idle, not stalled
    guard.published()
    assert not guard.should_resubscribe()  # not yet waited long enough
    time.sleep(0.25)
    assert guard.should_resubscribe()
    time.sleep(0.25)
    assert not guard.should_resubscribe()  # after a swap, only a new publish starts a wait
    guard.published()
    time.sleep(0.25)
    assert guard.should_resubscribe()


def test_a_delivery_ends_the_wait_and_a_held_one_prevents_a_swap():
    guard = StallGuard(["t"], stall_s=0.05)
    guard.published()
    held = object()
    guard.delivered(held)
    time.sleep(0.1)
    assert not guard.should_resubscribe()  # delivered after the publish
    guard.published()
    time.sleep(0.1)
    assert not guard.should_resubscribe()  # the process still holds a delivery
    guard.settled(held)
    guard.settled(held)  # settling twice (a nack after a failed ack) is harmless
    assert guard.should_resubscribe()


@pytest.fixture
def lite_transports(lite_broker, tmp_path, monkeypatch):
    monkeypatch.setattr(lite_shim, "STALL_S", 0.3)
    made: list[PulsarTransport] = []

    def make(**overrides) -> PulsarTransport:
        transport = PulsarTransport(lite_broker.settings(**overrides), tmp_path)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


def _publish_until_swapped(publisher, guarded, taker, job_type, caplog, tries=20) -> int:
    """Publish one message at a time until the guarded receiver swapped; how many it got."""
    got = 0
    for n in range(tries):
        publisher.publish(job_type, messages(1, prefix=f"p{n}-"))
        got += len(drain(guarded, 1, timeout_s=0.2))
        drain(taker, 1, timeout_s=0.5)
        deadline = time.monotonic() + 0.6  # twice the patched STALL_S, and more
        while time.monotonic() < deadline and not _swaps(caplog):
            got += len(drain(guarded, 1, timeout_s=0.1))
        if _swaps(caplog):
            return got
    return got


def _swaps(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == SWAPPED]


def test_a_receiver_swaps_a_consumer_that_got_nothing_and_the_new_one_delivers_and_acks(
    lite_transports, caplog
):
    # Given a guarded receiver, and another client on the same subscription that
    # takes what the guarded one is not given
    caplog.set_level(logging.WARNING, logger="workq_pulsar.receiver")
    job_type = f"T{uuid.uuid4().hex[:10]}"
    guarded_transport = lite_transports()
    guarded_transport.declare([job_type])
    guarded = guarded_transport.subscribe([job_type])
    taker = lite_transports().subscribe([job_type])
    # When the guarded process publishes and the message goes to the other client
    _publish_until_swapped(guarded_transport, guarded, taker, job_type, caplog)
    # Then the guarded receiver subscribed a new consumer, once per wait
    assert len(_swaps(caplog)) == 1
    # And with the other client gone, the new consumer gets every message once,
    # and its acks hold (nothing comes back)
    drain(taker, 1_000, timeout_s=1.0)  # nothing of the taker's goes back on close
    taker.close()
    guarded_transport.publish(job_type, messages(5, prefix="after-"))
    got = drain(guarded, 5)
    assert sorted(d.payload for d in got) == [f"after-{i}".encode() for i in range(5)]
    assert guarded.receive(1.0) is None


def test_without_the_lite_shim_there_is_no_guard(lite_transports, caplog):
    # Given the same set-up with the shim off (as on genuine Apache Pulsar);
    # distinct consumer ids come from the shimmed taker's skipped range
    caplog.set_level(logging.WARNING, logger="workq_pulsar.receiver")
    job_type = f"T{uuid.uuid4().hex[:10]}"
    plain_transport = lite_transports(lite_shim=False)
    plain_transport.declare([job_type])
    plain = plain_transport.subscribe([job_type])
    taker = lite_transports().subscribe([job_type])
    # When its publishes go to the other client
    _publish_until_swapped(plain_transport, plain, taker, job_type, caplog, tries=3)
    # Then it never swaps its consumer
    assert _swaps(caplog) == []


def test_a_delivery_held_across_a_swap_is_acked_on_its_own_consumer(lite_transports, monkeypatch):
    monkeypatch.setattr(receiver_module, "RETIRE_GRACE_S", 0.2)
    # Given a guarded receiver holding a delivery when (racing it) a swap happens
    job_type = f"T{uuid.uuid4().hex[:10]}"
    transport = lite_transports()
    transport.declare([job_type])
    receiver = transport.subscribe([job_type])
    transport.publish(job_type, messages(1, prefix="held-"))
    (held,) = drain_unacked(receiver, 1)
    receiver._resubscribe()
    # When it is acked after the swap, and more messages follow
    receiver.ack(held)
    transport.publish(job_type, messages(3, prefix="next-"))
    # Then the ack held (the message never comes back), the new consumer delivers
    # the rest, and the retired consumer is closed once it has nothing left
    got = drain(receiver, 3)
    assert sorted(d.payload for d in got) == [f"next-{i}".encode() for i in range(3)]
    assert receiver.receive(1.0) is None
    time.sleep(0.3)  # past the retired consumer's grace
    assert receiver.receive(0.1) is None
    assert receiver._retired == []


def drain_unacked(receiver, expected: int) -> list:
    got = []
    deadline = time.monotonic() + 10
    while len(got) < expected and time.monotonic() < deadline:
        delivery = receiver.receive(0.5)
        if delivery is not None:
            got.append(delivery)
    return got
