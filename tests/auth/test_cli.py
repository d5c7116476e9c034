"""As a user would: `workq migrate && workq auth`, curl-style HTTP, gRPC from this process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.auth.conftest import SECRET, Client, create_user, login
from workq_core.rpc.client import AuthClient

pytestmark = pytest.mark.e2e


def free_port() -> int:
    """A port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workq(*args: str) -> list[str]:
    return [sys.executable, "-m", "workq_entrypoints.cli", *args]


def env_for(database_url: str, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "WORKQ_CORE_DATA_DIR": str(tmp_path),
        "WORKQ_AUTH_BCRYPT_COST": "4",
        "WORKQ_CORE_DISABLE_PLUGINS": "sql,pulsar",
        "WORKQ_CORE_LOG_FORMAT": "json",
    }


def wait_for_start(proc: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        record = json.loads(line)
        if record.get("message") == "auth service started":
            return record
    proc.kill()
    raise AssertionError(f"auth service did not start: {proc.stderr.read()}")


def test_migrate_then_auth_serves_http_and_grpc_and_stops_on_sigterm(database_url, tmp_path):
    env = env_for(database_url, tmp_path)
    migrated = subprocess.run(workq("migrate"), env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr

    proc = subprocess.Popen(
        workq(
            "auth",
            "--port",
            str(free_port()),
            "--grpc-port",
            str(free_port()),
            "--host",
            "127.0.0.1",
        ),
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = wait_for_start(proc)
        client = Client(started["port"])
        create_user(client)
        login(client)
        assert client.post("query { users { id email } }").json["data"]["users"][0]["email"] == (
            "a@example.com"
        )
        with AuthClient(f"127.0.0.1:{started['grpc_port']}", timeout_s=5) as auth:
            assert auth.authenticate(client.cookies["Authentication"]).email == "a@example.com"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    assert "auth service stopped" in proc.stderr.read()


def test_a_port_in_use_is_a_clear_error_naming_it(database_url, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            workq("auth", "--port", str(port), "--grpc-port", str(free_port())),
            env=env_for(database_url, tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert result.returncode == 2
    assert f"auth.port: 127.0.0.1:{port} is already in use" in result.stderr


def test_outside_local_mode_a_missing_secret_refuses_to_start(tmp_path):
    env = env_for(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    del env["JWT_SECRET"]

    result = subprocess.run(
        workq("auth", "--port", str(free_port()), "--grpc-port", str(free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr
