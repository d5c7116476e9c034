"""The ``in-memory`` transport: a broker in this process's memory, for tests without a broker."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from workq_core.errors import TransportError
from workq_core.types import DEAD_LETTER_KEY, Delivery, OutgoingMessage

DLQ_SUFFIX = "-DLQ"
NACK_DELAY_S = 0.05


@dataclass(frozen=True)
class DeadLetter:
    """A message in a dead-letter topic: the item message's properties plus why it died."""

    job_type: str
    key: str
    payload: bytes
    properties: Mapping[str, str]

    @property
    def topic(self) -> str:
        return self.job_type + DLQ_SUFFIX


@dataclass(frozen=True)
class _Message:
    seq: int
    job_type: str
    key: str
    payload: bytes
    properties: Mapping[str, str]


@dataclass(eq=False)
class InMemoryDelivery:
    """One message handed to one receiver, to be settled once (ack, nack or dead_letter).

    Not frozen only because ``workq_core.Delivery`` declares plain attributes.
    """

    job_type: str
    payload: bytes
    properties: Mapping[str, str]
    message: _Message = field(repr=False)
    handout: int = field(repr=False, default=0)  # which handing-out of the message this is


class _Subscription:
    """A topic's one shared subscription: ready messages, nacked ones waiting, ones handed out."""

    def __init__(self) -> None:
        self.ready: deque[_Message] = deque()
        self.later: list[tuple[float, int, _Message]] = []  # a heap on redelivery time
        self.out: dict[int, int] = {}  # seq of each message handed out -> its handout
        self._handouts = itertools.count(1)

    def take(self, now: float) -> InMemoryDelivery | None:
        while self.later and self.later[0][0] <= now:
            self.ready.append(heapq.heappop(self.later)[2])
        if not self.ready:
            return None
        m = self.ready.popleft()
        handout = self.out[m.seq] = next(self._handouts)
        return InMemoryDelivery(m.job_type, m.payload, m.properties, m, handout)

    def next_redelivery(self) -> float | None:
        return self.later[0][0] if self.later else None

    def __len__(self) -> int:
        return len(self.ready) + len(self.later) + len(self.out)


class InMemoryBroker:
    """Topics, one shared subscription on each, and their dead letters, in this process.

    It keeps the promises the transport contract asks of a broker: a message
    of a declared topic goes to one receiver at a time, a nacked one comes
    back (to any receiver) after ``nack_delay_s``, as Pulsar's negative-ack
    delay does, and dead letters stay until read. Publishing to a topic that
    was never declared is an error rather than a silent drop, so a test
    notices what a real broker would have lost.
    """

    def __init__(self, nack_delay_s: float = NACK_DELAY_S) -> None:
        self.nack_delay_s = nack_delay_s
        self._cond = threading.Condition()
        self._subs: dict[str, _Subscription] = {}
        self._dead: list[DeadLetter] = []
        self._seq = itertools.count(1)

    def dead_letters(self, job_type: str | None = None) -> list[DeadLetter]:
        """The dead letters so far (of ``job_type`` only, if given), oldest first."""
        with self._cond:
            return [d for d in self._dead if job_type is None or d.job_type == job_type]

    def pending(self, job_type: str) -> int:
        """Messages of ``job_type`` not settled yet: ready, waiting to come back, or handed out."""
        with self._cond:
            sub = self._subs.get(job_type)
            return len(sub) if sub is not None else 0

    def wake(self) -> None:
        """Have every blocked ``receive`` look again (a receiver was closed)."""
        with self._cond:
            self._cond.notify_all()

    # The rest is what InMemoryTransport and InMemoryReceiver call.

    def declare(self, job_types: Sequence[str]) -> None:
        with self._cond:
            for name in job_types:
                self._subs.setdefault(name, _Subscription())

    def publish(self, job_type: str, messages: Sequence[OutgoingMessage]) -> None:
        with self._cond:
            sub = self._subs.get(job_type)
            if sub is None:
                raise TransportError(f"publish to {job_type!r}, a topic that was never declared")
            for m in messages:
                seq = next(self._seq)
                sub.ready.append(_Message(seq, job_type, m.key, m.payload, dict(m.properties)))
            self._cond.notify_all()

    def receive(self, receiver: InMemoryReceiver, timeout_s: float) -> InMemoryDelivery | None:
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._cond:
            while True:
                if receiver.closed:
                    raise TransportError("receive on a closed receiver")
                now = time.monotonic()
                subs = [self._subs[name] for name in receiver.rotate()]
                for sub in subs:
                    delivery = sub.take(now)
                    if delivery is not None:
                        return delivery
                if now >= deadline:
                    return None
                redeliveries = [t for t in (s.next_redelivery() for s in subs) if t is not None]
                self._cond.wait(min([deadline, *redeliveries]) - now)

    def dead_letter(
        self, delivery: Delivery, properties: Mapping[str, str], *, maybe_sent: bool = False
    ) -> None:
        """Add a copy of a handed-out delivery to the dead letters (unless ``maybe_sent`` and
        one with its dead-letter key is there); the delivery is settled separately."""
        if not isinstance(delivery, InMemoryDelivery):
            raise TransportError(f"not a delivery of the in-memory transport: {delivery!r}")
        m = delivery.message
        letter = DeadLetter(m.job_type, m.key, m.payload, {**m.properties, **properties})
        key = properties.get(DEAD_LETTER_KEY)
        with self._cond:
            if self._subs[m.job_type].out.get(m.seq) != delivery.handout:
                raise TransportError(f"this delivery of message {m.key!r} was already settled")
            if (
                maybe_sent
                and key
                and any(d.properties.get(DEAD_LETTER_KEY) == key for d in self._dead)
            ):
                return
            self._dead.append(letter)

    def settle(self, delivery: Delivery, *, redeliver: bool = False) -> None:
        """Settle a handed-out delivery once: done, or back after the nack delay.

        Settling one twice (or a stale copy of a message handed out again)
        raises TransportError: the core promises to settle every delivery
        exactly once, and a test should hear when it does not.
        """
        if not isinstance(delivery, InMemoryDelivery):
            raise TransportError(f"not a delivery of the in-memory transport: {delivery!r}")
        m = delivery.message
        with self._cond:
            sub = self._subs[m.job_type]
            if sub.out.get(m.seq) != delivery.handout:
                raise TransportError(f"this delivery of message {m.key!r} was already settled")
            del sub.out[m.seq]
            if redeliver:
                heapq.heappush(sub.later, (time.monotonic() + self.nack_delay_s, m.seq, m))
                self._cond.notify_all()


class InMemoryReceiver:
    """A consumer on the shared subscriptions of some topics; safe to share between threads."""

    def __init__(self, broker: InMemoryBroker, job_types: Sequence[str]) -> None:
        self._broker = broker
        self._job_types = list(job_types)
        self._turn = itertools.count()
        self.closed = False

    def rotate(self) -> list[str]:
        """The topics, starting one further each call, so no topic starves the others."""
        if not self._job_types:
            return []
        start = next(self._turn) % len(self._job_types)
        return self._job_types[start:] + self._job_types[:start]

    def receive(self, timeout_s: float) -> InMemoryDelivery | None:
        return self._broker.receive(self, timeout_s)

    def ack(self, delivery: Delivery) -> None:
        self._broker.settle(delivery)

    def nack(self, delivery: Delivery) -> None:
        self._broker.settle(delivery, redeliver=True)

    def dead_letter(
        self, delivery: Delivery, properties: Mapping[str, str], *, maybe_sent: bool = False
    ) -> None:
        """Into the job type's dead letters with its properties plus ``properties``; not settled."""
        self._broker.dead_letter(delivery, properties, maybe_sent=maybe_sent)

    def close(self) -> None:
        """Idempotent; ``receive`` raises from now on, a blocked one at once.

        Deliveries it handed out can still be settled, so a worker drains
        after its receiver is closed.
        """
        self.closed = True
        self._broker.wake()


class InMemoryTransport:
    """A connection to an :class:`InMemoryBroker`: the Transport protocol, nothing more.

    Every transport of one broker sees the same topics, as every Pulsar
    client of one cluster does; so the relay's transport and the executor's
    can be two objects, as they are two processes in production.
    """

    def __init__(self, broker: InMemoryBroker) -> None:
        self.broker = broker
        self._receivers: list[InMemoryReceiver] = []
        self._closed = False
        self._lock = threading.Lock()

    def declare(self, job_types: Sequence[str]) -> None:
        self._check_open()
        self.broker.declare(job_types)

    def publish(self, job_type: str, messages: Sequence[OutgoingMessage]) -> None:
        self._check_open()
        self.broker.publish(job_type, messages)

    def subscribe(self, job_types: Sequence[str]) -> InMemoryReceiver:
        self._check_open()
        self.broker.declare(job_types)  # subscribing creates the subscription, as on Pulsar
        receiver = InMemoryReceiver(self.broker, job_types)
        with self._lock:
            self._receivers.append(receiver)
        return receiver

    def close(self) -> None:
        """Idempotent: closes every receiver this transport made."""
        with self._lock:
            self._closed = True
            receivers, self._receivers = self._receivers, []
        for receiver in receivers:
            receiver.close()

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError("the in-memory transport is closed")
