"""The gRPC AuthService server, backed by the auth service's ``authenticate``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import grpc

from workq_core.errors import ConfigError, Unavailable
from workq_core.rpc import auth_pb2, auth_pb2_grpc

logger = logging.getLogger(__name__)

INVALID_TOKEN = "invalid token"  # noqa: S105 - a message, not a credential


class _User(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    """Answers Authenticate; ``after_call`` releases per-thread resources (the DB connection)."""

    def __init__(
        self, authenticate: Callable[[str], _User | None], after_call: Callable[[], None]
    ) -> None:
        self._authenticate = authenticate
        self._after_call = after_call

    def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: grpc.ServicerContext
    ) -> auth_pb2.AuthenticateResponse:
        try:
            user = self._authenticate(request.token) if request.token else None
        except Unavailable:
            context.abort(grpc.StatusCode.UNAVAILABLE, "auth service unavailable")
        except Exception:
            logger.error("authenticate failed", exc_info=True)
            context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            self._after_call()
        if user is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, INVALID_TOKEN)
        return auth_pb2.AuthenticateResponse(user=auth_pb2.User(id=user.id, email=user.email))


def start_grpc_server(
    servicer: AuthServicer,
    host: str,
    port: int,
    workers: int = 8,
    *,
    reuse_port: bool = False,
    credentials: grpc.ServerCredentials | None = None,
) -> Any:
    """A started ``grpc.Server`` and its bound port; ConfigError names a port in use.

    ``reuse_port`` lets the processes of ``workq auth --workers N`` share the port.
    With ``credentials`` (``workq_core.rpc.tls``) the port speaks TLS only.
    """
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
        options=[
            ("grpc.so_reuseport", int(reuse_port)),
            ("grpc.max_receive_message_length", 64 * 1024),
        ],
    )
    auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)
    try:
        address = f"{host}:{port}"
        if credentials is None:
            bound = server.add_insecure_port(address)
        else:
            bound = server.add_secure_port(address, credentials)
    except RuntimeError:
        bound = 0
    if not bound:
        refused = "" if credentials is None else " (or gRPC refused auth.grpc_tls_cert/key)"
        raise ConfigError(
            f"auth.grpc_port: {host}:{port} is already in use or not available{refused}"
        )
    server.start()
    return server, bound
