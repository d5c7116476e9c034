"""``workq auth|jobs --workers 2`` as a user runs them: two processes answer on one port."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port

CONNECTIONS = 24


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _established_inodes(port: int) -> set[str]:
    """Inodes of the server-side ends of established connections to ``port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def _owners(pids: set[int], inodes: set[str]) -> set[int]:
    owners = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                owners.add(pid)
    return owners


def _wait_for(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the service exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the service did not start")


def _ask(port: int) -> http.client.HTTPConnection:
    """A keep-alive connection that has had one answer, left open."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"query": "{ __typename }"})
    conn.request("POST", "/graphql", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 200
    assert json.loads(response.read()) == {"data": {"__typename": "Query"}}
    return conn


@pytest.mark.parametrize("service", ["auth", "jobs"])
def test_two_workers_serve_from_two_processes(tmp_path, service):
    # Given `workq auth --workers 2` (or jobs) on free ports
    port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "WORKQ_CORE_DATA_DIR": str(tmp_path),
        "WORKQ_DATABASE_URL": f"sqlite:///{tmp_path / 'workq.db'}",
        "WORKQ_JWT_SECRET": "x" * 40,
        "WORKQ_AUTH_BCRYPT_COST": "4",
        "WORKQ_CORE_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "workq_entrypoints", service, "--workers", "2"]
    command += ["--port", str(port)]
    command += ["--grpc-port", str(grpc_port)] if service == "auth" else []
    log = tmp_path / "log.jsonl"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=stderr)
    connections: list[http.client.HTTPConnection] = []
    try:
        _wait_for(port, proc)
        # When many clients each open a connection and ask (again, while the copy starts)
        owners: set[int] = set()
        deadline = time.monotonic() + 60
        while len(owners) < 2 and time.monotonic() < deadline:
            for conn in connections:
                conn.close()
            connections = [_ask(port) for _ in range(CONNECTIONS)]
            pids = {proc.pid, *_children(proc.pid)}
            owners = _owners(pids, _established_inodes(port))
            time.sleep(0.5)
        # Then both processes hold some of the connections
        assert len(owners) == 2
    finally:
        for conn in connections:
            conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    started = [r for r in _records(log) if r["message"].endswith("service started")]
    assert len(started) == 2
    if service == "jobs":  # and only one of them relays the outbox
        assert sorted(r["relay"] for r in started) == [False, True]


def _records(log: Path) -> list[dict[str, Any]]:
    records = []
    for line in log.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line from the broker or a library, not a record
    return records
