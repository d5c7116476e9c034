"""AuthService.Authenticate under garbage, empty, huge and malformed requests and tight deadlines.

tests/auth/test_grpc.py covers a valid token, a revoked one, "garbage" and ""
with the generic message, and the client's deadline against a slow server.
Here: hostile tokens and raw bytes against the real server, which answers
each with a clean status and keeps serving.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from tests.auth.conftest import create_user, login
from workq_core.rpc import auth_pb2, auth_pb2_grpc

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

METHOD = "/workq.auth.v1.AuthService/Authenticate"


def _code(stub, token: str, timeout_s: float = 5) -> grpc.StatusCode:
    try:
        stub.Authenticate(auth_pb2.AuthenticateRequest(token=token), timeout=timeout_s)
    except grpc.RpcError as exc:
        assert "Traceback" not in (exc.details() or "")
        return exc.code()
    return grpc.StatusCode.OK


def test_hostile_tokens_get_clean_statuses_and_the_server_keeps_serving(service, client):
    create_user(client)
    login(client)
    valid = client.cookies["Authentication"]
    channel = grpc.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    stub = auth_pb2_grpc.AuthServiceStub(channel)
    tokens = {
        "empty": "",
        "garbage": "garbage",
        "dots": "...",
        "nul": "a\x00b",
        "control": "\x1b[31m\r\n",
        "unicode": "\U0001d54a" * 100,
        "header-only": valid.split(".")[0],
        "valid-with-trailing-space": valid + " ",
        "60-KiB": "a" * (60 * 1024),
    }

    codes = {name: _code(stub, token).name for name, token in tokens.items()}
    huge = _code(stub, "a" * (1024 * 1024))

    assert codes == dict.fromkeys(tokens, "UNAUTHENTICATED")
    assert huge == grpc.StatusCode.RESOURCE_EXHAUSTED  # over the 64 KiB receive limit
    assert _code(stub, valid) == grpc.StatusCode.OK
    channel.close()


def test_undecodable_requests_are_refused_not_crashing(service):
    channel = grpc.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    raw = channel.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    outcomes = {}
    for name, payload in {
        "not-protobuf": b"\xff\xff\xff\xff",
        "invalid-utf8-string": b"\x0a\x02\xff\xfe",  # field 1 (token), bytes that are not UTF-8
        "wrong-wire-type": b"\x0d\x00\x00\x00\x00",
    }.items():
        try:
            raw(payload, timeout=5)
            outcomes[name] = "OK"
        except grpc.RpcError as exc:
            outcomes[name] = exc.code().name

    assert "OK" not in outcomes.values(), outcomes
    assert _code(stub, "garbage") == grpc.StatusCode.UNAUTHENTICATED
    channel.close()


def test_a_short_deadline_fails_the_caller_only(service, client):
    create_user(client)
    login(client)
    valid = client.cookies["Authentication"]
    channel = grpc.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    with ThreadPoolExecutor(max_workers=16) as pool:
        rushed = list(pool.map(lambda _: _code(stub, valid, timeout_s=0.001), range(64)))

    assert set(rushed) <= {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.OK}
    assert grpc.StatusCode.DEADLINE_EXCEEDED in rushed
    assert _code(stub, valid) == grpc.StatusCode.OK  # the workers are free again
    channel.close()
