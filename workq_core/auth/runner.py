"""Assemble the auth service and run its HTTP and gRPC servers in this process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import falcon.asgi
import peewee

from workq_core.auth.passwords import PasswordHasher
from workq_core.auth.ratelimit import LoginLimiter
from workq_core.auth.resolvers import RESOLVERS
from workq_core.auth.service import AuthService
from workq_core.auth.users import UserStore
from workq_core.config import Settings
from workq_core.db import close_database, connect, is_postgres, migrate
from workq_core.db.middleware import CloseDatabase
from workq_core.rpc.server import AuthServicer, start_grpc_server
from workq_core.rpc.tls import server_credentials
from workq_core.runtime import Runtime
from workq_core.telemetry.endpoints import operational_routes
from workq_core.telemetry.probes import database_probe
from workq_core.telemetry.tracing import configure_tracing
from workq_core.web import HttpServer, create_app, load_schema
from workq_core.web.assets import Page

logger = logging.getLogger(__name__)

# The browser's way in: it logs in here, same-origin, and the cookie it gets is
# host-wide, so the jobs service's dashboard on the same host is signed in too.
SIGN_IN_PAGE = "signin/index.html"


def build_auth_service(runtime: Runtime, db: peewee.Database) -> AuthService:
    """The service with its collaborators; the auth backend is the one ``auth.backend`` names."""
    auth = runtime.settings.auth
    return AuthService(
        users=UserStore(db),
        backend=runtime.auth_backend(db),
        hasher=PasswordHasher(auth.bcrypt_cost),
        limiter=LoginLimiter(db, auth.login_max_attempts, auth.login_window_s),
    )


def cookie_secure(settings: Settings) -> bool:
    """``auth.cookie_secure``, or auto: on everywhere except local mode (plain-HTTP localhost)."""
    configured = settings.auth.cookie_secure
    return (not settings.core.local) if configured is None else configured


def create_auth_app(runtime: Runtime, service: AuthService, db: peewee.Database) -> falcon.asgi.App:
    """The auth GraphQL app at ``/graphql``, the sign-in page at ``/signin`` (and ``/``),
    with ``/healthz``, ``/readyz`` and ``/metrics``."""
    schema = load_schema("workq_core.auth", "schema.graphql", RESOLVERS)
    sign_in = Page(SIGN_IN_PAGE)
    return create_app(
        runtime.settings.graphql,
        schema,
        service.authenticate,
        cookie_secure=cookie_secure(runtime.settings),
        context_factory=lambda _req: {"auth": service},
        cleanup=CloseDatabase(db),
        body_timeout_s=runtime.settings.http.body_timeout_s,
        threads=runtime.settings.http.threads,
        service="auth",
        routes={"/": sign_in, "/signin": sign_in, **operational_routes([database_probe(db)])},
    )


@dataclass
class AuthServiceHandle:
    """A running auth service; ``stop()`` ends both servers and closes the database."""

    http: HttpServer
    grpc_server: Any
    grpc_port: int
    db: peewee.Database

    @property
    def http_port(self) -> int:
        return self.http.port

    def stop(self, grace_s: float = 5.0) -> None:
        self.http.stop()
        self.grpc_server.stop(grace_s).wait(grace_s + 1)
        close_database(self.db)
        logger.info("auth service stopped")


def start_auth_service(
    runtime: Runtime,
    *,
    port: int | None = None,
    grpc_port: int | None = None,
    apply_migrations: bool = True,
    reuse_port: bool = False,
) -> AuthServiceHandle:
    """Migrate (idempotent), then serve GraphQL on ``auth.port`` and gRPC on ``auth.grpc_port``.

    ``port`` / ``grpc_port`` override the settings; 0 picks a free port (tests,
    ``workq up``). The handle reports the bound ports. ``reuse_port`` lets
    several processes serve the same ports (``workq auth --workers``).
    """
    settings = runtime.settings
    port = settings.auth.port if port is None else port
    grpc_port = settings.auth.grpc_port if grpc_port is None else grpc_port
    configure_tracing(settings, "auth")
    db = connect(settings.database_url, settings.database.timeout_s)
    if apply_migrations:
        migrate(db)
    service = build_auth_service(runtime, db)
    http = HttpServer(
        create_auth_app(runtime, service, db),
        settings.auth.host,
        port,
        settings=settings.http,
        setting="auth.port",
        reuse_port=reuse_port,
    )
    try:
        servicer = AuthServicer(service.authenticate, lambda: _release(db))
        grpc_server, grpc_port = start_grpc_server(
            servicer,
            settings.auth.host,
            grpc_port,
            reuse_port=reuse_port,
            credentials=server_credentials(settings.auth),
        )
    except BaseException:
        http.stop()
        raise
    http.start()
    logger.info(
        "auth service started",
        extra={"host": settings.auth.host, "port": http.port, "grpc_port": grpc_port},
    )
    return AuthServiceHandle(http, grpc_server, grpc_port, db)


def _release(db: peewee.Database) -> None:
    """Return a pooled PostgreSQL connection; a SQLite one stays with its long-lived thread."""
    if is_postgres(db) and not db.is_closed():
        db.close()
