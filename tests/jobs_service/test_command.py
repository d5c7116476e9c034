"""``workq jobs`` as a user runs it: a subprocess that serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.auth.conftest import Client
from tests.jobs_service.conftest import EXECUTE
from tests.support.ports import free_port
from workq_pulsar.broker_process import port_open


@pytest.mark.e2e
def test_workq_jobs_serves_until_sigterm(stack):
    user = stack.user()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": stack.runtime.settings.database_url,
        "PULSAR_SERVICE_URL": stack.runtime.settings.section("pulsar").service_url,
        "WORKQ_PULSAR_LITE_SHIM": "true",
        "WORKQ_PULSAR_NAMESPACE": stack.runtime.settings.section("pulsar").namespace,
        "WORKQ_CORE_DATA_DIR": str(stack.runtime.settings.data_dir),
    }
    args = [sys.executable, "-m", "workq_entrypoints", "jobs", "--port", str(port)]
    args += ["--auth-grpc", f"127.0.0.1:{stack.auth.grpc_port}", "--log-format", "json"]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            assert process.poll() is None, process.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "workq jobs did not listen in time"
            time.sleep(0.05)

        client = Client(port, dict(user.cookies))
        executed = client.post(
            EXECUTE, {"executeJobInput": {"name": "Fibonacci", "data": {"iterations": 7}}}
        )
        listed = client.post("query { jobs { name description } }")
        assert executed.json["data"]["executeJob"]["name"] == "Fibonacci"
        assert "Fibonacci" in {t["name"] for t in listed.json["data"]["jobs"]}
        assert Client(port).post("{ jobs { name } }").code == "UNAUTHENTICATED"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b"jobs service stopped" in stderr
    assert stack.count("jobs") == 1
