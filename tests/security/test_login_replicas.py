"""The login limiter is shared by every auth replica: two processes on one database allow
no more attempts than one, even when attempts race through both at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.auth.conftest import SECRET, Client, create_user, login
from tests.fault.harness import wait_until
from tests.support.ports import free_port

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

MAX_ATTEMPTS = 4
RETRY = re.compile(r"^Too many login attempts; try again in (\d+) s\.$")


def _spawn_auth(database_url: str, tmp_path: Path, name: str) -> tuple[subprocess.Popen, int]:
    port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "WORKQ_DATABASE_URL": database_url,
        "WORKQ_JWT_SECRET": SECRET,
        "WORKQ_CORE_DATA_DIR": str(tmp_path / name),
        "WORKQ_AUTH_BCRYPT_COST": "4",
        "WORKQ_AUTH_LOGIN_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "WORKQ_AUTH_LOGIN_WINDOW_S": "600",
        "WORKQ_CORE_DISABLE_PLUGINS": "sql,pulsar",
    }
    command = [sys.executable, "-m", "workq_entrypoints", "auth", "--port", str(port)]
    with (tmp_path / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--grpc-port", str(grpc_port)], env=env, stdout=log, stderr=log
        )

    def answers() -> bool:
        assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()
        try:
            return Client(port).post("{ __typename }").status == 200
        except OSError:
            return False

    wait_until(answers, 60, f"auth replica {name} answering")
    return proc, port


@pytest.fixture
def replicas(database_url, tmp_path) -> Iterator[list[int]]:
    """Two `workq auth` processes on the same PostgreSQL database (started one after the
    other, so only the first migrates)."""
    started = [_spawn_auth(database_url, tmp_path, name) for name in ("one", "two")]
    yield [port for _proc, port in started]
    for proc, _port in started:
        proc.terminate()
        proc.wait(30)


def test_two_replicas_together_allow_no_more_attempts_than_one(replicas):
    # Given a user, and two auth processes sharing one database
    clients = [Client(port) for port in replicas]
    assert create_user(clients[0]).status == 200

    # When failed logins alternate between the replicas
    codes = [login(clients[n % 2], password="wrong-password").code for n in range(MAX_ATTEMPTS + 3)]

    # Then the limit counts both: as many failures as one process allows, then refusals
    # with the time to wait, on either replica, even for the right password
    assert codes == ["UNAUTHENTICATED"] * MAX_ATTEMPTS + ["RATE_LIMITED"] * 3
    for client in clients:
        refused = login(client).json["errors"][0]
        wait_s = int(RETRY.match(refused["message"]).group(1))
        assert 0 < wait_s <= 600
        assert refused["extensions"] == {"code": "RATE_LIMITED", "retryAfterS": wait_s}


def test_racing_attempts_through_both_replicas_are_each_counted(replicas):
    # Given an email no one has tried yet
    email = "race@example.com"

    # When many attempts arrive at both replicas at once
    def attempt(n: int) -> str:
        return login(Client(replicas[n % 2]), email=email, password="wrong-password").code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(16)))

    # Then exactly the limit's worth got to the password check
    assert codes.count("UNAUTHENTICATED") == MAX_ATTEMPTS
    assert codes.count("RATE_LIMITED") == 16 - MAX_ATTEMPTS
