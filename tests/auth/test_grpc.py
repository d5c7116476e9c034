"""AuthService.Authenticate over a real gRPC server, and the client's deny-on-doubt rules."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from tests.auth.conftest import create_user, login
from tests.support.fault_proxy import FaultProxy
from workq_core import AuthError, Unavailable
from workq_core.rpc import auth_pb2, auth_pb2_grpc
from workq_core.rpc.client import AuthClient, AuthenticatedUser


def test_a_valid_token_gives_its_user(service, client):
    user_id = int(create_user(client).json["data"]["createUser"]["id"])
    login(client)

    with AuthClient(f"127.0.0.1:{service.grpc_port}", timeout_s=5) as auth:
        user = auth.authenticate(client.cookies["Authentication"])

    assert user == AuthenticatedUser(id=user_id, email="a@example.com")


def test_bad_and_revoked_tokens_are_unauthenticated_with_a_generic_message(service, client):
    create_user(client)
    login(client)
    token = client.cookies["Authentication"]
    client.post("mutation { logout }")
    stub = auth_pb2_grpc.AuthServiceStub(grpc.insecure_channel(f"127.0.0.1:{service.grpc_port}"))

    for bad in (token, "garbage", ""):
        with pytest.raises(grpc.RpcError) as caught:
            stub.Authenticate(auth_pb2.AuthenticateRequest(token=bad), timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert caught.value.details() == "invalid token"
    with AuthClient(f"127.0.0.1:{service.grpc_port}") as auth, pytest.raises(AuthError):
        auth.authenticate(token)


def test_a_down_auth_service_is_unavailable_never_allowed():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed

    with (
        AuthClient(f"127.0.0.1:{port}", timeout_s=0.5) as auth,
        pytest.raises(Unavailable, match=f"127.0.0.1:{port}"),
    ):
        auth.authenticate("any-token")


class _Slow(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def Authenticate(self, request, context):
        self.release.wait(5)
        return auth_pb2.AuthenticateResponse(user=auth_pb2.User(id=1, email="a@example.com"))


def test_a_slow_auth_service_hits_the_deadline_and_denies():
    release = threading.Event()
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    auth_pb2_grpc.add_AuthServiceServicer_to_server(_Slow(release), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with AuthClient(f"127.0.0.1:{port}", timeout_s=0.3) as auth:
            started = time.monotonic()
            with pytest.raises(Unavailable, match="did not answer in time"):
                auth.authenticate("any-token")
            assert time.monotonic() - started < 2
    finally:
        release.set()
        server.stop(0)


class _Fast(auth_pb2_grpc.AuthServiceServicer):
    def Authenticate(self, request, context):
        return auth_pb2.AuthenticateResponse(user=auth_pb2.User(id=1, email="a@example.com"))


def test_a_slow_link_within_the_deadline_still_connects_and_answers():
    # Given an auth service 300 ms away each way (the fault proxy's latency)
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    auth_pb2_grpc.add_AuthServiceServicer_to_server(_Fast(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with FaultProxy(("127.0.0.1", port)) as proxy:
            proxy.delay(300)
            # When a client connects through it with a 5 s deadline, it is answered
            # (gRPC took min_reconnect_backoff_ms, 200 ms, as its connect timeout: it failed)
            with AuthClient(proxy.address, timeout_s=5) as auth:
                assert auth.authenticate("any-token").id == 1
    finally:
        server.stop(0)
