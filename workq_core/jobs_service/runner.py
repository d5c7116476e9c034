"""Assemble the jobs service and run its HTTP server (and outbox relay) in this process."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import falcon.asgi
import peewee
from graphql import GraphQLSchema

from workq_core.db import close_database, connect, migrate
from workq_core.db.middleware import CloseDatabase
from workq_core.jobs.admission import window_for
from workq_core.jobs.relay import OutboxRelay
from workq_core.jobs.sweeper import lease_ms, stall_ms
from workq_core.jobs_service.api import JobsApi
from workq_core.jobs_service.dashboard import dashboard_page
from workq_core.jobs_service.event_hub import EventHub
from workq_core.jobs_service.live import LiveJobs
from workq_core.jobs_service.queue_gauges import QueueGauges
from workq_core.jobs_service.resolvers import RESOLVERS
from workq_core.jobs_service.scalars import bind_json_scalar
from workq_core.jobs_service.schedule_resolvers import SCHEDULE_RESOLVERS
from workq_core.jobs_service.schedules_api import SchedulesApi, submitter_for
from workq_core.retention.task import RetentionTask
from workq_core.rpc.cache import AuthCache
from workq_core.rpc.client import AuthClient
from workq_core.rpc.tls import channel_credentials
from workq_core.runtime import Runtime
from workq_core.schedules import defaults
from workq_core.schedules.scheduler import Scheduler
from workq_core.telemetry.endpoints import operational_routes
from workq_core.telemetry.probes import Probe, auth_probe, broker_probe, database_probe
from workq_core.telemetry.tracing import configure_tracing
from workq_core.types import Transport
from workq_core.web import Authenticate, HttpServer, create_app, load_schema

logger = logging.getLogger(__name__)


def jobs_schema() -> GraphQLSchema:
    """``jobs.graphql`` with its resolvers and the JSON scalar bound."""
    resolvers = {
        name: {**RESOLVERS.get(name, {}), **SCHEDULE_RESOLVERS.get(name, {})}
        for name in {*RESOLVERS, *SCHEDULE_RESOLVERS}
    }
    schema = load_schema("workq_core.jobs_service", "jobs.graphql", resolvers)
    bind_json_scalar(schema)
    return schema


def create_jobs_app(
    runtime: Runtime,
    api: JobsApi,
    authenticate: Authenticate,
    db: peewee.Database,
    probes: Sequence[Probe] = (),
    schedules: SchedulesApi | None = None,
    hub: EventHub | None = None,
) -> falcon.asgi.App:
    """The jobs GraphQL app at ``/graphql`` and the dashboard at ``/``.

    ``authenticate`` is usually an AuthClient. Beside them: ``/healthz``,
    ``/readyz`` (the database, and ``probes``) and ``/metrics`` (with the
    queue gauges read from the database). With ``hub`` the GraphQL path
    serves subscriptions over WebSocket too.
    """
    gauges = QueueGauges(db, runtime.catalog.job_types.names())
    schedules = schedules or SchedulesApi(api)
    return create_app(
        runtime.settings.graphql,
        jobs_schema(),
        authenticate,
        context_factory=lambda _req: {"jobs": api, "schedules": schedules},
        cleanup=CloseDatabase(db),
        body_timeout_s=runtime.settings.http.body_timeout_s,
        threads=runtime.settings.http.threads,
        service="jobs",
        routes={
            "/": dashboard_page(runtime.settings),
            **operational_routes([database_probe(db), *probes], [gauges]),
        },
        sources=LiveJobs(api, hub).sources() if hub is not None else None,
        subscriptions=runtime.settings.subscriptions,
    )


@dataclass
class JobsServiceHandle:
    """A running jobs service; ``stop()`` ends the server, the relay, and what it opened."""

    http: HttpServer
    db: peewee.Database
    relay: OutboxRelay | None = None
    scheduler: Scheduler | None = None
    hub: EventHub | None = None
    _closers: list[Any] = field(default_factory=list, repr=False)
    retention: RetentionTask | None = None

    @property
    def port(self) -> int:
        return self.http.port

    @property
    def url(self) -> str:
        return f"http://{self.http.host}:{self.http.port}/graphql"

    def stop(self) -> None:
        """Stop taking requests, then the background tasks (retention, the scheduler, which
        gives its lease up), then the relay, then close the shared resources."""
        self.http.stop()
        if self.hub is not None:
            self.hub.stop()
        if self.retention is not None:
            self.retention.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
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
    several processes serve the same port (``workq jobs --workers``). Every
    process runs the retention task; its lease lets one at a time purge.
    """
    settings = runtime.settings
    port = settings.jobs.port if port is None else port
    configure_tracing(settings, "jobs")
    closers: list[Any] = []
    db = connect(settings.database_url, settings.database.timeout_s)
    try:
        if apply_migrations:
            migrate(db)
        if transport is None:
            transport = runtime.transport()
            closers.append(transport.close)
        transport.declare(runtime.catalog.job_types.names())
        probes = [broker_probe(transport)]
        if authenticate is None:
            client = AuthClient(
                settings.jobs.auth_grpc,
                settings.jobs.auth_timeout_s,
                credentials=channel_credentials(settings.jobs),
                server_name=settings.jobs.auth_grpc_tls_server_name,
            )
            closers.append(client.close)
            authenticate = AuthCache(client.authenticate, settings.jobs.auth_cache_s)
            probes.append(auth_probe(client))
        relay = (
            OutboxRelay(
                db,
                transport,
                stall_ms=stall_ms(settings),
                lease_ms=lease_ms(settings),
                window=window_for(settings),
            )
            if settings.jobs.relay
            else None
        )
        api = JobsApi(db, settings, runtime.catalog, relay.wake if relay else _no_wake)
        scheduler = _scheduler(runtime, db, api) if settings.jobs.scheduler else None
        schedules = SchedulesApi(api, scheduler.poke if scheduler else _no_wake)
        hub = EventHub(db, settings.subscriptions.poll_s)
        http = HttpServer(
            create_jobs_app(runtime, api, authenticate, db, probes, schedules, hub=hub),
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
    if scheduler is not None:
        scheduler.start()
    http.start()
    retention = RetentionTask(db, settings.retention).start()
    logger.info(
        "jobs service started",
        extra={
            "host": settings.jobs.host,
            "port": http.port,
            "relay": relay is not None,
            "scheduler": scheduler is not None,
        },
    )
    return JobsServiceHandle(
        http, db, relay, scheduler=scheduler, hub=hub, _closers=closers, retention=retention
    )


def _scheduler(runtime: Runtime, db: peewee.Database, api: JobsApi) -> Scheduler:
    """Install the job types' default schedules, then the loop that fires every schedule."""
    jobs = runtime.settings.jobs
    with db.connection_context():
        defaults.install(db, [(e.value, e.plugin) for e in runtime.catalog.job_types.entries()])
    return Scheduler(
        db,
        submitter_for(api),
        tick_s=jobs.scheduler_tick_s,
        lease_ms=round(jobs.scheduler_lease_s * 1000),
        grace_ms=round(jobs.schedule_grace_s * 1000),
        wake=api.wake,
    )


def _no_wake() -> None:
    """Another process relays the outbox; it polls, so nothing to do here."""
