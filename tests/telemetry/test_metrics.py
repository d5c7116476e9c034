"""``/metrics`` of every service, scraped over HTTP from a real ``workq up`` while a job runs."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import workq
from tests.e2e.test_up_and_demo import Up, free_port, workq_env
from tests.executor.conftest import wait_for
from tests.telemetry.services import get

pytestmark = pytest.mark.e2e

ITEMS = 24
SLOW = {"iterations": 100_000}  # ~0.2 s of CPU each: the job runs for a few seconds


def scrape(port: int) -> dict[str, float]:
    """Samples of the ``workq_`` metrics: ``name{labels}`` to value."""
    status, body = get(port, "/metrics")
    assert status == 200
    samples = {}
    for line in body.decode().splitlines():
        if line.startswith("workq_"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    pattern = re.compile(rf"^{re.escape(name)}(\{{.*\}})?$")
    return sum(
        value
        for key, value in samples.items()
        if pattern.match(key) and all(w in key for w in wanted)
    )


class MetricsUp(Up):
    """``workq up`` with two executor processes of two threads each."""

    def args(self) -> list[str]:
        return [*super().args(), "--processes", "2", "--threads", "2"]


@pytest.fixture
def up(tmp_path: Path) -> Iterator[MetricsUp]:
    running = MetricsUp(tmp_path / "data").start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.stop()


def test_metrics_of_every_service_move_while_a_job_runs(up: MetricsUp) -> None:
    executor, jobs, auth = up.ports["executor"], up.ports["jobs"], up.ports["auth"]
    assert f"executor:       http://127.0.0.1:{executor}/metrics" in up.banner
    # Given both executor processes report into the one executor port
    before = scrape(executor)
    wait_for(lambda: total(scrape(executor), "workq_executor_threads", state="idle") == 4)
    attempts_before = total(before, "workq_item_attempts_total", job_type="Fibonacci")

    # When a user submits a job of slow items
    with workq.Client(up.jobs_url, up.auth_url) as client:
        client.create_user("metrics@example.com", "S3cret!pass")
        client.login("metrics@example.com", "S3cret!pass")
        submitted = client.submit("Fibonacci", [SLOW] * ITEMS)

        # Then, while it runs, threads are busy and attempts counted (a thread is busy
        # from taking its batch, a little before the batch's attempts are counted)
        wait_for(
            lambda: (
                (s := scrape(executor))
                and total(s, "workq_executor_threads", state="busy") > 0
                and total(s, "workq_item_attempts_total", job_type="Fibonacci") > attempts_before
            )
        )
        # and the database gauges show waiting items
        queue = scrape(jobs)
        waiting = sum(
            total(queue, "workq_items", job_type="Fibonacci", status=status)
            for status in ("queued", "running")
        )
        assert waiting > 0, queue
        done = client.wait(submitted.id, timeout_s=120)
    assert (done.status, done.completed) == ("completed", ITEMS)

    # And afterwards every item is counted once, over both executor processes
    after = scrape(executor)
    assert total(after, "workq_item_attempts_total", job_type="Fibonacci") == ITEMS
    assert total(after, "workq_item_completions_total", job_type="Fibonacci") == ITEMS
    run_count = "workq_item_run_duration_seconds_count"
    assert total(after, run_count, job_type="Fibonacci", outcome="completed") == ITEMS
    assert total(after, "workq_item_wait_duration_seconds_count", job_type="Fibonacci") == ITEMS
    assert total(after, "workq_executor_threads", state="busy") == 0
    # The jobs service timed its operations and its token checks
    served = scrape(jobs)
    assert total(served, "workq_http_request_duration_seconds_count", service="jobs") >= 2
    assert total(served, "workq_auth_check_duration_seconds_count", result="accepted") >= 1
    assert total(served, "workq_outbox_lag_seconds") >= 0
    # and the auth service its own (createUser, login)
    logged = scrape(auth)
    assert total(logged, "workq_http_request_duration_seconds_count", service="auth") >= 2


def test_a_service_with_two_workers_reports_the_requests_of_both(tmp_path: Path) -> None:
    # Given `workq auth --workers 2`: two processes taking connections on one port
    port, grpc = free_port(), free_port()
    env = {**workq_env(tmp_path), "WORKQ_CORE_DATA_DIR": str(tmp_path), "WORKQ_CORE_LOCAL": "1"}
    command = [sys.executable, "-m", "workq_entrypoints", "auth", "--workers", "2"]
    command += ["--port", str(port), "--grpc-port", str(grpc)]
    log = (tmp_path / "auth.log").open("wb")
    service = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: service.poll() is None and _listeners(port) == 2, timeout_s=60)
        wait_for(lambda: _answers(port))
        # When 24 clients each send one named query on a connection of their own
        connections = [_ping(port) for _ in range(REQUESTS)]

        # Then whichever process answers a scrape counts all 24
        for _ in range(8):
            pings = total(
                scrape(port), "workq_http_request_duration_seconds_count", operation="Ping"
            )
            assert pings == REQUESTS
        for connection in connections:
            connection.close()
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(60)
        log.close()


REQUESTS = 24


def _listeners(port: int) -> int:
    """Listening sockets on ``port`` (one per process, with SO_REUSEPORT)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1
        for line in lines
        if int(line.split()[1].split(":")[1], 16) == port and line.split()[3] == "0A"
    )


def _answers(port: int) -> bool:
    try:
        return get(port, "/healthz")[0] == 200
    except OSError:
        return False


def _ping(port: int) -> http.client.HTTPConnection:
    """A new keep-alive connection that asked ``query Ping`` once and stays open."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"query": "query Ping { __typename }"})
    connection.request("POST", "/graphql", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200, response.read()
    response.read()
    return connection
