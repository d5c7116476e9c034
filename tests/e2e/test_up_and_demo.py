"""``workq up`` and ``workq demo`` as a user runs them: subprocesses, HTTP, restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workq
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e


def workq_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKQ_", "JWT_", "PORT"))}
    env.pop("DATABASE_URL", None)
    env.pop("PULSAR_SERVICE_URL", None)
    env["WORKQ_AUTH_BCRYPT_COST"] = "4"
    return env


class Up:
    """A ``workq up`` process on free ports and its own data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {"auth": free_port(), "jobs": free_port(), "grpc": free_port()}
        self.ports["executor"] = free_port()
        self.env: dict[str, str] = {}  # added to the environment (settings, OTEL_*)
        self.process: subprocess.Popen[str] | None = None

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['auth']}/graphql"

    @property
    def jobs_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['jobs']}/graphql"

    def args(self) -> list[str]:
        return [
            "--data-dir",
            str(self.data_dir),
            "--auth-port",
            str(self.ports["auth"]),
            "--jobs-port",
            str(self.ports["jobs"]),
            "--grpc-port",
            str(self.ports["grpc"]),
            "--executor-port",
            str(self.ports["executor"]),
        ]

    def start(self) -> Up:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workq_entrypoints", "up", *self.args()],
            env={**workq_env(self.data_dir), **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        banner = []
        while "Press Ctrl-C to stop." not in banner:
            line = self.process.stdout.readline()
            assert line, f"workq up exited: {self.process.stderr.read()[-3000:]}"
            banner.append(line.strip())
        self.startup_s = time.monotonic() - started
        self.banner = banner
        return self

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


@pytest.fixture
def up(tmp_path):
    running = Up(tmp_path / "data").start()
    yield running
    if running.process.poll() is None:
        running.stop()


def test_up_runs_everything_and_keeps_data_across_restarts(up, tmp_path):
    # Given `workq up` printed its URLs
    assert f"auth GraphiQL:  {up.auth_url}" in up.banner
    assert f"jobs GraphiQL:  {up.jobs_url}" in up.banner
    assert f"dashboard:      {up.jobs_url.removesuffix('graphql')}" in up.banner
    assert up.startup_s < 30

    # When a user signs up, logs in and submits a bulk job over HTTP
    with workq.Client(up.jobs_url, up.auth_url) as client:
        client.create_user("alice@example.com", "S3cret!pass")
        token = client.login("alice@example.com", "S3cret!pass")
        submitted = client.submit("Fibonacci", [{"iterations": i} for i in range(200)])

        # Then it completes
        done = client.wait(submitted.id, timeout_s=120)
    assert (done.status, done.size, done.completed, done.dead) == ("completed", 200, 200, 0)
    secret = up.data_dir / "jwt_secret"
    assert secret.stat().st_mode & 0o777 == 0o600

    # When Workq stops (SIGTERM) and starts again on the same data directory
    assert up.stop() == 0
    again = Up(up.data_dir)
    again.ports = up.ports
    again.start()
    try:
        # Then the user and the job are still there, and the old token still works
        with workq.Client(again.jobs_url, again.auth_url) as client:
            assert client.login("alice@example.com", "S3cret!pass")
        with workq.Client(again.jobs_url, token=token) as client:
            job = client.job(submitted.id)
        assert (job.status, job.completed) == ("completed", 200)
    finally:
        assert again.stop() == 0


def test_a_port_already_taken_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        upx = Up(tmp_path / "data")
        upx.ports["jobs"] = port
        result = subprocess.run(
            [sys.executable, "-m", "workq_entrypoints", "up", *upx.args()],
            env=workq_env(upx.data_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"workq: error: jobs.port: 127.0.0.1:{port} is already in use" in result.stderr


def test_demo_starts_workq_runs_a_bulk_job_and_summarises(tmp_path):
    upx = Up(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "workq_entrypoints", "demo", "--items", "300", *upx.args()],
        env=workq_env(upx.data_dir),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Starting Workq" in out
    assert "[##############################] 100% 300/300 done" in out
    assert "  items:      300 (300 done, 0 failed, 0 dead)" in out
    assert "  sample:     Fibonacci(10) = 55" in out
    assert "items/s end to end" in out


def test_demo_uses_a_workq_that_is_already_up(up):
    result = subprocess.run(
        [sys.executable, "-m", "workq_entrypoints", "demo", "--items", "20", *up.args()],
        env=workq_env(up.data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Using the Workq already running at {up.jobs_url}." in result.stdout
    assert "  items:      20 (20 done, 0 failed, 0 dead)" in result.stdout
