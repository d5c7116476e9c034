"""``workq auth``, ``jobs`` and ``executor`` as subprocesses on free ports, probed over HTTP.

Services run in their own processes: the test process then never forks
(``pg_ctl``) while gRPC threads of its own are running, which can crash the
child before it execs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.test_up_and_demo import free_port

SECRET = "telemetry-test-secret-0123456789abcdef"


def get(port: int, path: str) -> tuple[int, bytes]:
    """Status and body of ``GET http://127.0.0.1:port/path`` (any status)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def probe(port: int, path: str) -> tuple[int, dict[str, Any]]:
    status, body = get(port, path)
    return status, json.loads(body)


@dataclass
class Services:
    """The three services of one database and broker, each its own process."""

    root: Path
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def start(cls, root: Path, database_url: str, broker_env: dict[str, str], **extra: str):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("WORKQ_", "JWT_", "PULSAR_")) and k not in ("PORT", "DATABASE_URL")
        }
        env.update(broker_env)
        env.update(
            DATABASE_URL=database_url,
            JWT_SECRET=SECRET,
            WORKQ_CORE_DATA_DIR=str(root),
            WORKQ_AUTH_BCRYPT_COST="4",
            WORKQ_EXECUTOR_RELAY="false",
        )
        env.update(extra)
        services = cls(root, env)
        services.ports = {name: free_port() for name in ("auth", "grpc", "jobs", "executor")}
        env.setdefault("WORKQ_JOBS_AUTH_GRPC", f"127.0.0.1:{services.ports['grpc']}")
        root.mkdir(parents=True, exist_ok=True)
        ports = services.ports
        services._spawn("auth", "--port", str(ports["auth"]), "--grpc-port", str(ports["grpc"]))
        services._spawn("jobs", "--port", str(ports["jobs"]))
        services._spawn("executor", "--port", str(ports["executor"]))
        return services

    def _spawn(self, kind: str, *args: str) -> None:
        with open(self.root / f"{kind}.log", "wb") as log:
            self.procs[kind] = subprocess.Popen(
                [sys.executable, "-m", "workq_entrypoints", kind, "--log-format", "json", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_alive(kind)

    def wait_alive(self, kind: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            assert self.procs[kind].poll() is None, f"{kind} exited:\n{self.log(kind)}"
            try:
                if get(self.ports[kind], "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{kind} not alive:\n{self.log(kind)}"
            time.sleep(0.1)

    def log(self, kind: str) -> str:
        return (self.root / f"{kind}.log").read_text(errors="replace")[-3000:]

    def http_ports(self) -> dict[str, int]:
        return {kind: self.ports[kind] for kind in ("auth", "jobs", "executor")}

    def stop(self) -> None:
        for proc in reversed(self.procs.values()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
