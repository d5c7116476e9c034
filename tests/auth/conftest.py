"""A real auth service on loopback ports, against each database engine."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import pytest

from workq_core.auth import AuthServiceHandle, start_auth_service
from workq_core.runtime import bootstrap

SECRET = "x" * 40
PASSWORD = "S3cret!pass"


def auth_env(database_url: str, tmp_path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "WORKQ_CORE_DATA_DIR": str(tmp_path),
        "WORKQ_AUTH_BCRYPT_COST": "4",
        "WORKQ_CORE_DISABLE_PLUGINS": "sql,pulsar",
        **extra,
    }


@dataclass
class Client:
    """A tiny HTTP client that keeps the Authentication cookie like a browser."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def post(self, query: str, variables=None, headers=None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps({"query": query, "variables": variables})
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=body.encode() if isinstance(body, str) else body,
            headers={"Content-Type": "application/json", **self._cookie(), **(headers or {})},
            method="POST",
        )
        return self._send(request)

    def _cookie(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _send(self, request):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status, headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, data = exc.code, exc.headers, exc.read()
        for header in headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie(header)
            for name, morsel in jar.items():
                if not morsel.value or morsel["expires"].endswith("1970 00:00:00 GMT"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(status, headers, json.loads(data) if data else None)


@dataclass
class Response:
    status: int
    headers: object
    json: dict

    @property
    def code(self) -> str:
        return self.json["errors"][0]["extensions"]["code"]


def start(database_url: str, tmp_path, **extra: str) -> AuthServiceHandle:
    runtime = bootstrap(env=auth_env(database_url, tmp_path, **extra))
    return start_auth_service(runtime, port=0, grpc_port=0)


@pytest.fixture
def service(database_url, tmp_path) -> Iterator[AuthServiceHandle]:
    handle = start(database_url, tmp_path)
    yield handle
    handle.stop()


@pytest.fixture
def client(service) -> Client:
    return Client(service.http_port)


CREATE = """mutation { createUser(createUserInput: {email: "%s", password: "%s"}) { id email } }"""
LOGIN = "mutation Login($loginInput: LoginInput!) { login(loginInput: $loginInput) { id } }"


def create_user(client: Client, email="a@example.com", password=PASSWORD) -> Response:
    return client.post(CREATE % (email, password))


def login(client: Client, email="a@example.com", password=PASSWORD) -> Response:
    return client.post(LOGIN, {"loginInput": {"email": email, "password": password}})
