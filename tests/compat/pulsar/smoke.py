"""Check by hand that the genuine Pulsar standalone behaves as the suite assumes.

Run: ``python3 tests/compat/pulsar/smoke.py [DIR]`` (DIR defaults to a fresh
temporary directory). Needs ``pulsar-client``. Not a pytest test: it starts and
crashes a real broker, which takes tens of seconds. Each check prints PASS/FAIL
and the last line counts them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pulsar
from standalone import PulsarStandalone

TOPIC = "persistent://public/default/smoke"
RECEIVE_MS = 10_000
results: list[bool] = []


def connect(url: str, log: Path) -> pulsar.Client:
    """A client logging to a file: its default logger writes INFO lines to stdout."""
    logger = pulsar.FileLogger(pulsar.LoggerLevel.Info, str(log))
    return pulsar.Client(url, operation_timeout_seconds=60, logger=logger)


def drain(consumer: pulsar.Consumer) -> int:
    """Receive and ack until nothing arrives for 3 s; the count received."""
    received = 0
    while True:
        try:
            consumer.acknowledge(consumer.receive(timeout_millis=3_000))
        except pulsar.Timeout:
            return received
        received += 1


def check(name: str, ok: bool, detail: object = "") -> None:
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}", flush=True)


def receive_text(
    consumer: pulsar.Consumer, timeout_ms: int = RECEIVE_MS
) -> tuple[pulsar.Message, str]:
    message = consumer.receive(timeout_millis=timeout_ms)
    return message, message.data().decode()


def basic_and_restart(broker: PulsarStandalone) -> None:
    """Send/ack, negative ack, then a crash: unacked messages and old handles survive it."""
    client = connect(broker.url, broker.directory / "client.log")
    # Subscribe first: a new subscription starts at the end of the topic.
    consumer = client.subscribe(
        TOPIC,
        "smoke-sub",
        consumer_type=pulsar.ConsumerType.Shared,
        negative_ack_redelivery_delay_ms=500,
    )
    producer = client.create_producer(TOPIC)

    producer.send(b"m1")
    message, text = receive_text(consumer)
    consumer.acknowledge(message)
    check("send/receive/ack", text == "m1", text)

    producer.send(b"m2")
    message, _ = receive_text(consumer)
    consumer.negative_acknowledge(message)
    started = time.monotonic()
    message, text = receive_text(consumer)
    check(
        "negative_acknowledge redelivers",
        text == "m2",
        f"{text} after {time.monotonic() - started:.2f}s, "
        f"redelivery_count={message.redelivery_count()}",
    )
    consumer.acknowledge(message)

    producer.send(b"m3")
    _, text = receive_text(consumer)  # delivered, deliberately left unacked
    broker.kill()
    started = time.monotonic()
    broker.start()
    print(f"     restarted after kill in {time.monotonic() - started:.1f}s", flush=True)
    # The client groups acks for 100 ms before sending them, so m2's ack, made
    # just before the crash, may be lost and m2 delivered again.
    redelivered = []
    try:
        while True:
            message, text = receive_text(consumer, 60_000 if not redelivered else 3_000)
            redelivered.append(f"{text}(redelivery_count={message.redelivery_count()})")
            consumer.acknowledge(message)
    except pulsar.Timeout:
        pass
    check(
        "unacked message redelivered after kill+start",
        any(r.startswith("m3") for r in redelivered),
        f"{redelivered}, first {time.monotonic() - started:.1f}s after restart began",
    )
    started = time.monotonic()
    producer.send(b"m4")
    _, text = receive_text(consumer)
    check(
        "old producer publishes after restart",
        text == "m4",
        f"send took {time.monotonic() - started:.2f}s",
    )
    client.close()


def two_processes_share_subscription(broker: PulsarStandalone) -> None:
    """Each process's first consumer has consumer id 0 on its own connection."""
    topic, subscription, count = f"{TOPIC}-two", "shared", 200
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--consume",
            broker.url,
            topic,
            subscription,
            str(broker.directory / "client-child.log"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "subscribed"
    client = connect(broker.url, broker.directory / "client.log")
    consumer = client.subscribe(topic, subscription, consumer_type=pulsar.ConsumerType.Shared)
    with urllib.request.urlopen(  # noqa: S310 - loopback admin url
        f"{broker.admin_url}/admin/v2/persistent/public/default/smoke-two/stats"
    ) as response:
        consumers = json.load(response)["subscriptions"][subscription]["consumers"]
    producer = client.create_producer(topic)
    for index in range(count):
        producer.send_async(str(index).encode(), None)
    producer.flush()
    here = drain(consumer)
    there = int(child.communicate(timeout=30)[0])
    check(
        "two processes on one Shared subscription",
        len(consumers) == 2 and here + there == count,
        f"broker lists {len(consumers)} consumers; received {here} here + {there} there",
    )
    client.close()


def deliver_after(broker: PulsarStandalone) -> None:
    client = connect(broker.url, broker.directory / "client.log")
    topic = f"{TOPIC}-delayed"
    consumer = client.subscribe(topic, "delayed", consumer_type=pulsar.ConsumerType.Shared)
    producer = client.create_producer(topic)
    started = time.monotonic()
    producer.send(b"late", deliver_after=timedelta(seconds=2))
    producer.send(b"now")
    arrivals = []
    for _ in range(2):
        message, text = receive_text(consumer)
        arrivals.append((text, round(time.monotonic() - started, 2)))
        consumer.acknowledge(message)
    (first, _), (second, late_at) = arrivals
    check(
        "deliver_after delays a Shared delivery",
        (first, second) == ("now", "late") and late_at >= 1.9,
        arrivals,
    )
    client.close()


def consume_in_child(url: str, topic: str, subscription: str, log: str) -> None:
    """Child side of the two-process check: receive until idle, print the count."""
    client = connect(url, Path(log))
    consumer = client.subscribe(topic, subscription, consumer_type=pulsar.ConsumerType.Shared)
    print("subscribed", flush=True)
    print(drain(consumer), flush=True)
    client.close()


def main() -> int:
    if sys.argv[1:2] == ["--consume"]:
        consume_in_child(*sys.argv[2:6])
        return 0
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="pulsar-"))
    broker = PulsarStandalone(directory)
    started = time.monotonic()
    broker.start()
    print(f"     {broker.url} ready in {time.monotonic() - started:.1f}s, data in {directory}")
    try:
        basic_and_restart(broker)
        two_processes_share_subscription(broker)
        deliver_after(broker)
    finally:
        broker.stop()
    print(f"{results.count(True)} passed, {results.count(False)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
