"""`embedded` mode: one pulsar-lite broker per data dir, started or attached to."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import workq_pulsar
from workq_core import OutgoingMessage
from workq_core.runtime import bootstrap
from workq_pulsar import EmbeddedBroker
from workq_pulsar.broker_process import port_open

ATTACH = """
import json, sys, time
import workq_pulsar
from workq_pulsar import EmbeddedBroker
broker = EmbeddedBroker(sys.argv[1])
url = broker.start()
print(json.dumps({"url": url, "owned": broker.owned}), flush=True)
sys.stdin.read()
broker.stop()
"""


def test_two_processes_start_or_attach_to_one_broker(tmp_path):
    # Given two processes starting the embedded broker of one data dir at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ATTACH, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        results = [json.loads(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
    finally:
        for p in procs:
            p.communicate("", timeout=30)
    # Then both use the same broker and exactly one of them started it
    assert results[0]["url"] == results[1]["url"]
    assert sorted(r["owned"] for r in results) == [False, True]
    # and the broker's log lives in the data dir, not /tmp
    assert (tmp_path / "broker" / "pulsar-lite.log").is_file()


def test_stale_record_is_replaced(tmp_path):
    # Given a record of a broker whose process is gone
    directory = tmp_path / "broker"
    directory.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (directory / "broker.json").write_text(json.dumps({"pid": dead.pid, "port": 1}))
    # When the embedded broker starts
    broker = EmbeddedBroker(tmp_path)
    url = broker.start()
    try:
        # Then it started a new one and recorded it
        assert broker.owned
        record = json.loads((directory / "broker.json").read_text())
        assert url.endswith(f":{record['port']}") and record["pid"] != dead.pid
    finally:
        broker.stop()
    assert not port_open(int(url.rsplit(":", 1)[1]))
    assert not (directory / "broker.json").exists()


def test_factory_in_embedded_mode_round_trip(tmp_path):
    # Given the transport built by its factory with the default service_url
    runtime = bootstrap(
        env={"WORKQ_CORE_DATA_DIR": str(tmp_path)},
        extra_plugins=[("pulsar", workq_pulsar)],
        load_entry_points=False,
    )
    transport = runtime.transport()
    try:
        # When a message is published and consumed
        transport.declare(["Fibonacci"])
        transport.publish("Fibonacci", [OutgoingMessage("k", b"{}")])
        receiver = transport.subscribe(["Fibonacci"])
        delivery = receiver.receive(5)
        assert delivery is not None and delivery.job_type == "Fibonacci"
        receiver.ack(delivery)
    finally:
        transport.close()
    # Then closing the transport stopped the broker it started
    assert not (tmp_path / "broker" / "broker.json").exists()
    # and the broker's store lives in the data dir
    assert os.path.isdir(tmp_path / "broker" / "data.rocksdb")
