"""Assemble the jobs service and run its HTTP server (and outbox relay) in this process."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import falcon.asgi
import peewee
from graphql import GraphQLSchema

from workq_core.db import close_database, connect, migrate
from workq_core.db.middleware import CloseDatabase
from workq_core.jobs.admission import window_for
from workq_core.jobs.relay import OutboxRelay
from workq_core.jobs.sweeper import stall_ms
from workq_core.jobs_service.api import JobsApi
from workq_core.jobs_service.resolvers import RESOLVERS
from workq_core.jobs_service.scalars import bind_json_scalar
from workq_core.rpc.cache import AuthCache
from workq_core.rpc.client import AuthClient
from workq_core.runtime import Runtime
from workq_core.types import Transport
from workq_core.web import Authenticate, HttpServer, create_app, load_schema

logger = logging.getLogger(__name__)


def jobs_schema() -> GraphQLSchema:
    """``jobs.graphql`` with its resolvers and the JSON scalar bound."""
    schema = load_schema("workq_core.jobs_service", "jobs.graphql", RESOLVERS)
    bind_json_scalar(schema)
    return schema


def create_jobs_app(
    runtime: Runtime, api: JobsApi, authenticate: Authenticate, db: peewee.Database
) -> falcon.asgi.App:
    """The jobs GraphQL app at ``/graphql``; ``authenticate`` is usually an AuthClient."""
    return create_app(
        runtime.settings.graphql,
        jobs_schema(),
        authenticate,
        context_factory=lambda _req: {"jobs": api},
        cleanup=CloseDatabase(db),
        body_timeout_s=runtime.settings.http.body_timeout_s,
        threads=runtime.settings.http.threads,
    )


@dataclass
class JobsServiceHandle:
    """A running jobs service; ``stop()`` ends the server, the relay, and what it opened."""

    http: HttpServer
    db: peewee.Database
    relay: OutboxRelay | None = None
    _closers: list[Any] = field(default_factory=list, repr=False)

    @property
    def port(self) -> int:
        return self.http.port

    @property
    def url(self) -> str:
        return f"http://{self.http.host}:{self.http.port}/graphql"

    def stop(self) -> None:
        """Stop taking requests first, then the relay, then close the shared resources."""
        self.http.stop()
        if self.relay is not None:
            self.relay.stop()
        for close in reversed(self._closers):
            close()
        close_database(self.db)
        logger.info("jobs service stopped")


def start_jobs_service(
    runtime: Runtime,
    *,
    authenticate: Authenticate | None = None,
    transport: Transport | None = None,
    port: int | None = None,
    apply_migrations: bool = True,
    reuse_port: bool = False,
) -> JobsServiceHandle:
    """Migrate (idempotent), declare the job types' topics, start the relay, serve GraphQL.

    Without ``authenticate`` tokens are checked by the auth service at
    ``jobs.auth_grpc``; without ``transport`` the configured one is built
    (and closed on stop). ``port`` overrides ``jobs.port``; 0 picks a free port
    (tests, ``workq up``), and ``handle.url`` says which. ``reuse_port`` lets
    several processes serve the same port (``workq jobs --workers``).
    """
    settings = runtime.settings
    port = settings.jobs.port if port is None else port
    closers: list[Any] = []
    db = connect(settings.database_url)
    try:
        if apply_migrations:
            migrate(db)
        if transport is None:
            transport = runtime.transport()
            closers.append(transport.close)
        transport.declare(runtime.catalog.job_types.names())
        if authenticate is None:
            client = AuthClient(settings.jobs.auth_grpc, settings.jobs.auth_timeout_s)
            closers.append(client.close)
            authenticate = AuthCache(client.authenticate, settings.jobs.auth_cache_s)
        relay = (
            OutboxRelay(db, transport, stall_ms=stall_ms(settings), window=window_for(settings))
            if settings.jobs.relay
            else None
        )
        api = JobsApi(db, settings, runtime.catalog, relay.wake if relay else _no_wake)
        http = HttpServer(
            create_jobs_app(runtime, api, authenticate, db),
            settings.jobs.host,
            port,
            settings=settings.http,
            setting="jobs.port",
            reuse_port=reuse_port,
        )
    except BaseException:
        for close in reversed(closers):
            close()
        close_database(db)
        raise
    if relay is not None:
        relay.start()
    http.start()
    logger.info(
        "jobs service started",
        extra={"host": settings.jobs.host, "port": http.port, "relay": relay is not None},
    )
    return JobsServiceHandle(http, db, relay, closers)


def _no_wake() -> None:
    """Another process relays the outbox; it polls, so nothing to do here."""
