"""Several processes on one Shared subscription: shared work, and the pulsar-lite shim."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from workq_core import OutgoingMessage

SCRIPT = str(Path(__file__).with_name("consumer_proc.py"))


def start_consumer(broker, job_type: str, shim: bool, seconds: float) -> subprocess.Popen[str]:
    # pulsar-lite's refusal shows as a subscribe timeout: keep it short there.
    timeout_s = "15" if broker.genuine else "2"
    args = [sys.executable, SCRIPT, broker.url, job_type, "true" if shim else "false", str(seconds)]
    args.append(timeout_s)
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def first_line(process: subprocess.Popen[str]) -> dict:
    assert process.stdout is not None
    return json.loads(process.stdout.readline())


def finish(process: subprocess.Popen[str]) -> dict:
    out, _ = process.communicate(timeout=60)
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_share_the_work(broker, make_transport, job_type):
    # Given a declared job type and two consumer processes subscribed (the shim
    # on pulsar-lite only: genuine Pulsar keys consumers per connection)
    make_transport().declare([job_type])
    consumers = [start_consumer(broker, job_type, broker.shim, 6) for _ in range(2)]
    ready = [first_line(p) for p in consumers]
    assert all("subscribed_s" in r for r in ready), ready
    print(f"subscribe on {broker.kind}:", [r["subscribed_s"] for r in ready], "s")
    # When 40 messages are published
    make_transport().publish(
        job_type, [OutgoingMessage(str(i), str(i).encode()) for i in range(40)]
    )
    # Then both processes get some, and together all, each once
    got = [finish(p)["got"] for p in consumers]
    assert all(got), got
    assert sorted(got[0] + got[1], key=int) == [str(i) for i in range(40)]


def test_without_shim_second_process_is_refused_by_pulsar_lite_only(
    broker, make_transport, job_type
):
    # Documents the pulsar-lite quirk the shim exists for, and that genuine
    # Pulsar has no such quirk. If pulsar-lite starts to accept the second
    # consumer, it keys consumers per connection and the shim can go.
    make_transport().declare([job_type])
    first = start_consumer(broker, job_type, False, 4)
    assert "subscribed_s" in first_line(first)
    time.sleep(0.2)
    second = start_consumer(broker, job_type, False, 0.1)
    outcome = first_line(second)
    if broker.genuine:
        assert "subscribed_s" in outcome, outcome
    else:
        assert "timed out" in outcome.get("error", ""), outcome
    second.communicate(timeout=30)
    first.communicate(timeout=30)
