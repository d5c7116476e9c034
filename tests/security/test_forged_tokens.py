"""Forged, expired and revoked JWTs are refused by the auth HTTP API, gRPC and the jobs service.

tests/plugins/test_jwt_backend.py checks the backend's rules one by one;
here every forgery goes through every front end a client can reach.
"""

from __future__ import annotations

import base64
import json
import time

import grpc
import jwt as pyjwt

from tests.auth.conftest import SECRET, Client, create_user, login
from tests.jobs_service.conftest import EXECUTE
from workq_core.rpc import auth_pb2, auth_pb2_grpc

ME = "{ me { id email } }"
JOB = {"executeJobInput": {"name": "Fibonacci", "data": {"iterations": 1}}}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def victim_and_attacker(auth_port: int) -> tuple[int, int, str]:
    """Two new users, the victim's id, the attacker's, and a valid token of the attacker's own."""
    at_auth = Client(auth_port)
    victim_id = int(create_user(at_auth, "victim@example.com").json["data"]["createUser"]["id"])
    attacker_id = int(create_user(at_auth, "mallory@example.com").json["data"]["createUser"]["id"])
    login(at_auth, "mallory@example.com")
    return victim_id, attacker_id, at_auth.cookies["Authentication"]


def forgeries(user_id: int, victim_id: int, valid: str) -> dict[str, str]:
    """Tokens an attacker can make without the secret (or with a stale one), by name."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + 600,
        "iss": "workq-auth",
        "aud": "workq",
        "ver": 0,
    }
    header, payload, signature = valid.split(".")
    tampered = {**pyjwt.decode(valid, options={"verify_signature": False}), "sub": str(victim_id)}
    return {
        "alg-none": pyjwt.encode({**claims, "sub": str(victim_id)}, None, algorithm="none"),
        "alg-none-header-on-a-real-token": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong-key": pyjwt.encode(claims, "y" * 40, algorithm="HS256"),
        "other-algorithm-right-key": pyjwt.encode(claims, SECRET, algorithm="HS512"),
        "expired": pyjwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, SECRET),
        "issued-in-the-future": pyjwt.encode({**claims, "iat": now + 3600}, SECRET),
        "wrong-audience": pyjwt.encode({**claims, "aud": "another-service"}, SECRET),
        "wrong-issuer": pyjwt.encode({**claims, "iss": "evil"}, SECRET),
        "tampered-sub": f"{header}.{_b64(tampered)}.{signature}",
        "signature-stripped": f"{header}.{payload}.",
        "garbage": "not.a.jwt",
    }


def _grpc_code(stub, token: str) -> grpc.StatusCode:
    try:
        stub.Authenticate(auth_pb2.AuthenticateRequest(token=token), timeout=5)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def _outcomes(stack, stub, token: str) -> dict[str, object]:
    """What each front end says to ``token``, by bearer header and by cookie."""
    bearer = {"Authorization": f"Bearer {token}"}
    at_auth, at_jobs = Client(stack.auth.http_port), Client(stack.jobs.port)
    cookie_auth = Client(stack.auth.http_port, {"Authentication": token})
    cookie_jobs = Client(stack.jobs.port, {"Authentication": token})
    return {
        "auth-bearer": _code(at_auth.post(ME, headers=bearer)),
        "auth-cookie": _code(cookie_auth.post(ME)),
        "grpc": _grpc_code(stub, token).name,
        "jobs-bearer": _code(at_jobs.post(EXECUTE, JOB, headers=bearer)),
        "jobs-cookie": _code(cookie_jobs.post(EXECUTE, JOB)),
    }


def _code(response) -> str:
    errors = response.json.get("errors")
    return errors[0]["extensions"]["code"] if errors else "OK"


REFUSED = {
    "auth-bearer": "UNAUTHENTICATED",
    "auth-cookie": "UNAUTHENTICATED",
    "grpc": "UNAUTHENTICATED",
    "jobs-bearer": "UNAUTHENTICATED",
    "jobs-cookie": "UNAUTHENTICATED",
}


def test_forged_tokens_are_refused_by_every_front_end(stack):
    # Given two users, the attacker holding a valid token of their own
    victim_id, attacker_id, valid = victim_and_attacker(stack.auth.http_port)
    stub = auth_pb2_grpc.AuthServiceStub(grpc.insecure_channel(f"127.0.0.1:{stack.auth.grpc_port}"))
    assert set(_outcomes(stack, stub, valid).values()) == {"OK"}  # the probe is not vacuous
    jobs_before = stack.count("jobs")

    # When each forgery is sent to each front end
    outcomes = {
        name: _outcomes(stack, stub, token)
        for name, token in forgeries(attacker_id, victim_id, valid).items()
    }

    # Then every one is unauthenticated, and no job was stored
    wrong = {name: got for name, got in outcomes.items() if got != REFUSED}
    assert not wrong, wrong
    assert stack.count("jobs") == jobs_before


def test_a_token_after_logout_is_refused_by_every_front_end(stack):
    at_auth = Client(stack.auth.http_port)
    create_user(at_auth)
    login(at_auth)
    token = at_auth.cookies["Authentication"]
    stub = auth_pb2_grpc.AuthServiceStub(grpc.insecure_channel(f"127.0.0.1:{stack.auth.grpc_port}"))

    assert at_auth.post("mutation { logout }").json == {"data": {"logout": True}}

    assert _outcomes(stack, stub, token) == REFUSED
    assert stack.count("jobs") == 0
