"""Several processes on one Shared subscription of pulsar-lite: the consumer-id shim."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from workq_core import OutgoingMessage

SCRIPT = str(Path(__file__).with_name("consumer_proc.py"))


def start_consumer(url: str, job_type: str, shim: bool, seconds: float) -> subprocess.Popen[str]:
    args = [sys.executable, SCRIPT, url, job_type, "true" if shim else "false", str(seconds)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def first_line(process: subprocess.Popen[str]) -> dict:
    assert process.stdout is not None
    return json.loads(process.stdout.readline())


def finish(process: subprocess.Popen[str]) -> dict:
    out, _ = process.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_with_shim_share_the_work(broker, make_transport, job_type):
    # Given a declared job type and two consumer processes (shim on) subscribed
    make_transport().declare([job_type])
    consumers = [start_consumer(broker.url, job_type, True, 4) for _ in range(2)]
    ready = [first_line(p) for p in consumers]
    assert all("subscribed_s" in r for r in ready), ready
    print("subscribe incl. shim:", [r["subscribed_s"] for r in ready], "s")
    # When 40 messages are published
    make_transport().publish(
        job_type, [OutgoingMessage(str(i), str(i).encode()) for i in range(40)]
    )
    # Then both processes get some, and together all, each once
    got = [finish(p)["got"] for p in consumers]
    assert all(got), got
    assert sorted(got[0] + got[1], key=int) == [str(i) for i in range(40)]


def test_without_shim_second_process_is_refused(broker, make_transport, job_type):
    # Documents the pulsar-lite quirk the shim exists for: if this starts to
    # fail, pulsar-lite keys consumers per connection and the shim can go.
    make_transport().declare([job_type])
    first = start_consumer(broker.url, job_type, False, 4)
    assert "subscribed_s" in first_line(first)
    time.sleep(0.2)
    second = start_consumer(broker.url, job_type, False, 0.1)
    outcome = first_line(second)
    assert "timed out" in outcome.get("error", ""), outcome
    second.communicate(timeout=30)
    first.communicate(timeout=30)
