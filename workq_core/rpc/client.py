"""The client other services use to authenticate tokens: deny, never allow, on any doubt."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import grpc

from workq_core.errors import AuthError, Unavailable
from workq_core.rpc import auth_pb2, auth_pb2_grpc
from workq_core.telemetry import metrics

logger = logging.getLogger(__name__)

# gRPC's default reconnect backoff grows to 120 s, so after a long auth outage
# every caller kept being denied for up to two minutes after the service came
# back; retrying the connection at most every second bounds that to ~1 s.
# Not ``grpc.min_reconnect_backoff_ms``: gRPC also takes it as the time one
# connection attempt may last, and at 200 ms a link with more latency than
# that (300 ms through the fault proxy) never finished its HTTP/2 handshake,
# so every caller was denied. The default (20 s) applies; the call deadline
# (jobs.auth_timeout_s) still bounds each caller's wait.
RECONNECT_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


@dataclass(frozen=True)
class AuthenticatedUser:
    """Who a token belongs to, as the auth service says."""

    id: int
    email: str


class AuthClient:
    """``AuthClient("127.0.0.1:5000", timeout_s=2).authenticate(token)``.

    With ``credentials`` (``workq_core.rpc.tls.channel_credentials``) the
    channel is TLS and the server must prove its certificate.

    Raises AuthError when the auth service rejects the token and Unavailable
    (naming the target) when it is down, slow past the deadline, or answers
    anything else; callers that get an exception must deny. Thread-safe; the
    channel reconnects by itself after the auth service comes back.
    """

    def __init__(
        self,
        target: str,
        timeout_s: float = 2.0,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        server_name: str = "",
    ) -> None:
        self.target = target
        self.timeout_s = timeout_s
        if credentials is None:
            self._channel = grpc.insecure_channel(target, options=RECONNECT_OPTIONS)
        else:
            # the name the server's certificate must carry, when not the target's host
            name = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            options = RECONNECT_OPTIONS + name
            self._channel = grpc.secure_channel(target, credentials, options=options)
        self._stub = auth_pb2_grpc.AuthServiceStub(self._channel)

    def authenticate(self, token: str) -> AuthenticatedUser:
        if not token:
            raise AuthError("Invalid token.")
        started = time.perf_counter()
        result = "unavailable"
        try:
            response = self._stub.Authenticate(
                auth_pb2.AuthenticateRequest(token=token), timeout=self.timeout_s
            )
            if not response.HasField("user") or response.user.id <= 0:
                raise Unavailable(f"auth service at {self.target} gave an empty answer")
            result = "accepted"
            return AuthenticatedUser(id=response.user.id, email=response.user.email)
        except grpc.RpcError as exc:
            error = self._error(exc)
            result = "denied" if isinstance(error, AuthError) else "unavailable"
            raise error from None
        finally:
            elapsed = time.perf_counter() - started
            metrics.AUTH_CHECKS.labels(result).observe(elapsed)

    def check_ready(self, timeout_s: float = 2.0) -> None:
        """Return once the channel to the auth service connects; Unavailable if it does not."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout_s)
        except grpc.FutureTimeoutError:
            raise Unavailable(f"auth service at {self.target} is not reachable") from None

    __call__ = authenticate  # usable directly as the web layer's ``authenticate``

    def _error(self, exc: grpc.RpcError) -> Exception:
        code = exc.code() if isinstance(exc, grpc.Call) else None
        if code == grpc.StatusCode.UNAUTHENTICATED:
            return AuthError("Invalid token.")
        logger.warning(
            "auth service call failed",
            extra={"target": self.target, "status": getattr(code, "name", "UNKNOWN")},
        )
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return Unavailable(f"auth service at {self.target} did not answer in time")
        return Unavailable(f"auth service at {self.target} is unavailable")

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> AuthClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
