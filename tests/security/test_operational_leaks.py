"""``/metrics``, ``/healthz`` and ``/readyz`` leak nothing sensitive, healthy or not.

Those ports are often reachable by more people than the API (a scraper, a
load balancer). A real stack on PostgreSQL, whose database URL carries a
password, serves a user who logs in (once wrongly), submits and completes a
job: no endpoint of the auth service, the jobs service or the executor may
then show a token, a password, the JWT secret, the database URL's password
or host details, a user's email or an item's data; nor may ``/readyz`` while
a dependency is down.
"""

from __future__ import annotations

import secrets
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

import workq
from tests.auth.conftest import SECRET
from tests.jobs_service.conftest import EchoPlugin
from workq_core.runtime import bootstrap
from workq_entrypoints.stack import start_stack

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

ENDPOINTS = ("/metrics", "/healthz", "/readyz")


def _with_password(url: str, password: str) -> str:
    """The URL with ``password`` for its user (the test server trusts loopback, so any works)."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = f"{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, "", ""))


@pytest.fixture
def secrets_in_play(database_url, tmp_path, lite_broker):
    """A running stack, and every string that must not appear on its operational ports."""
    dsn_password = f"Dsn-{secrets.token_hex(8)}"
    email = f"leak-probe-{uuid.uuid4().hex[:8]}@example.com"
    password = f"Pw-{secrets.token_hex(8)}!"
    marker = f"payload-{secrets.token_hex(6)}"
    runtime = bootstrap(
        env={
            "DATABASE_URL": _with_password(database_url, dsn_password),
            "JWT_SECRET": SECRET,
            "WORKQ_CORE_DATA_DIR": str(tmp_path),
            "WORKQ_AUTH_BCRYPT_COST": "4",
            "WORKQ_CORE_DISABLE_PLUGINS": "sql",
            "PULSAR_SERVICE_URL": lite_broker.url,
            "WORKQ_PULSAR_LITE_SHIM": "true",
            "WORKQ_PULSAR_NAMESPACE": f"t{uuid.uuid4().hex[:12]}",
        },
        extra_plugins=[("echo", EchoPlugin())],
    )
    stack = start_stack(runtime, free_ports=True)
    try:
        with workq.Client(stack.jobs_url, stack.auth_url) as client:
            client.create_user(email, password)
            with pytest.raises(workq.Unauthenticated):
                client.login(email, password + "-wrong")
            token = client.login(email, password)
            job = client.submit("Echo", [{"text": marker}, {"text": marker}])
            client.wait(job.id, timeout_s=60)
        sensitive = {
            "token": token,
            "token-signature": token.rsplit(".", 1)[-1],
            "password": password,
            "jwt-secret": SECRET,
            "dsn-password": dsn_password,
            "email": email,
            "email-local-part": email.split("@")[0],
            "postgresql-url": "postgresql://",
            "item-data": marker,
            "job-id": job.id,
        }
        yield stack, sensitive
    finally:
        stack.stop()


def _ports(stack) -> dict[str, int]:
    assert stack.executor is not None and stack.executor.http_port is not None
    return {
        "auth": stack.auth.http_port,
        "jobs": stack.jobs.port,
        "executor": stack.executor.http_port,
    }


def _bodies(ports: dict[str, int]) -> dict[str, httpx.Response]:
    return {
        f"{service}{path}": httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10)
        for service, port in ports.items()
        for path in ENDPOINTS
    }


def _leaks(bodies: dict[str, httpx.Response], sensitive: dict[str, str]) -> dict[str, list[str]]:
    found = {}
    for where, response in bodies.items():
        text = response.text + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
        leaked = [name for name, value in sensitive.items() if value in text]
        if leaked:
            found[where] = leaked
    return found


def test_operational_endpoints_show_no_secret_or_user_data(secrets_in_play):
    stack, sensitive = secrets_in_play

    bodies = _bodies(_ports(stack))

    assert {where: r.status_code for where, r in bodies.items()} == dict.fromkeys(bodies, 200)
    assert "workq_" in bodies["jobs/metrics"].text  # the scrape is not empty
    assert _leaks(bodies, sensitive) == {}


def test_readyz_of_a_service_whose_dependency_is_down_names_it_and_nothing_more(
    secrets_in_play,
):
    # Given the auth service stopped under a running jobs service
    stack, sensitive = secrets_in_play
    grpc_target = f"127.0.0.1:{stack.auth.grpc_port}"
    ports = _ports(stack)
    stack.auth.stop()
    stack.auth.stop = lambda *a, **k: None  # stopped once; the fixture's stop() must not again
    time.sleep(0.2)

    # When the jobs service is asked whether it is ready
    response = httpx.get(f"http://127.0.0.1:{ports['jobs']}/readyz", timeout=10)

    # Then it says which check failed, without addresses, driver text or secrets
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["auth"].startswith("unavailable")
    assert grpc_target not in response.text and str(stack.auth.grpc_port) not in response.text
    assert _leaks({"jobs/readyz": response}, sensitive) == {}
