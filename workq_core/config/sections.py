"""The configuration sections the core owns; plugins add theirs through a hook."""

from __future__ import annotations

from dataclasses import dataclass

from workq_core.config.durations import parse_duration_ms
from workq_core.config.fields import setting


@dataclass(frozen=True)
class CoreSettings:
    """Process-wide settings: where data lives, plugins, logging."""

    data_dir: str = setting(
        ".workq", "directory for the SQLite file, broker data and local secrets"
    )
    local: bool = setting(
        False, "local mode (set by `workq up`): development defaults for secrets and cookies"
    )
    disable_plugins: tuple[str, ...] = setting((), "plugin names not to load")
    log_level: str = setting(
        "INFO", "log level", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    )
    log_format: str = setting(
        "auto",
        "json, text, or auto (text on a terminal, JSON otherwise)",
        choices=("auto", "json", "text"),
    )


@dataclass(frozen=True)
class DatabaseSettings:
    """Where users, jobs and items live."""

    url: str = setting(
        "",
        "sqlite:///PATH or postgresql://USER@HOST:PORT/DB; empty means core.data_dir/workq.db",
        env="DATABASE_URL",
        secret=True,
    )
    timeout_s: float = setting(
        30.0,
        "longest one PostgreSQL operation (connect, statement, commit) waits for the server;"
        " past it the operation fails as unavailable and its connection is discarded, so a"
        " server or link that stops answering without closing does not hang callers (0: no"
        " limit; see docs/reliability.md)",
        min=0,
    )


@dataclass(frozen=True)
class AuthSettings:
    """The auth service."""

    host: str = setting("127.0.0.1", "address the auth HTTP and gRPC servers bind")
    port: int = setting(3000, "GraphQL HTTP port of the auth service", env="PORT", min=1, max=65535)
    grpc_port: int = setting(5000, "gRPC port of AuthService", min=1, max=65535)
    backend: str = setting("jwt", "auth backend plugin name")
    bcrypt_cost: int = setting(12, "bcrypt cost factor for password hashes", min=4, max=31)
    cookie_secure: bool | None = setting(
        None, "Secure flag on the Authentication cookie; auto = on except in local mode"
    )
    login_max_attempts: int = setting(
        10, "failed logins allowed per email and per client address in the window", min=1
    )
    login_window_s: int = setting(300, "window of the login attempt limit, seconds", min=1)
    workers: int = setting(
        1, "processes of `workq auth`, each a full service on the same ports", min=1, max=64
    )
    grpc_tls_cert: str = setting(
        "",
        "PEM file of the gRPC server's certificate (chain); with grpc_tls_key it serves TLS"
        " only (empty: plaintext gRPC)",
    )
    grpc_tls_key: str = setting("", "PEM file of the private key of grpc_tls_cert")
    grpc_tls_client_ca: str = setting(
        "",
        "PEM file of the CA whose certificates gRPC clients must present (mutual TLS; empty:"
        " no client certificate asked)",
    )


@dataclass(frozen=True)
class JobsSettings:
    """The jobs service."""

    host: str = setting("127.0.0.1", "address the jobs HTTP server binds")
    port: int = setting(
        3001,
        "GraphQL HTTP port of the jobs service (0: any free port)",
        env="PORT",
        min=0,
        max=65535,
    )
    auth_grpc: str = setting("127.0.0.1:5000", "HOST:PORT of the auth service's gRPC server")
    auth_timeout_s: float = setting(2.0, "deadline of each gRPC Authenticate call", min=0.01)
    auth_grpc_tls_ca: str = setting(
        "",
        "PEM file of the CA that signed the auth service's gRPC certificate; set: the channel"
        " is TLS and verifies it (empty: plaintext)",
    )
    auth_grpc_tls_cert: str = setting(
        "", "PEM file of this service's client certificate, for an auth service asking for one"
    )
    auth_grpc_tls_key: str = setting("", "PEM file of the private key of auth_grpc_tls_cert")
    auth_grpc_tls_server_name: str = setting(
        "",
        "name the auth service's certificate must carry, when it is not the host of auth_grpc"
        " (empty: that host)",
    )
    auth_cache_s: float = setting(
        5.0,
        "how long an accepted token is remembered instead of asking the auth service again; "
        "also the longest a token revoked by logout or password change still works here "
        "(0: ask every time)",
        min=0,
        max=300,
    )
    max_items: int = setting(100_000, "most items one executeJob may carry", min=1)
    quota_items_per_minute: int = setting(
        1_000_000,
        "most items one user may submit per clock minute, unless an admin set the user's own"
        " (0: unlimited)",
        min=0,
    )
    quota_items_waiting: int = setting(
        10_000_000,
        "most items of one user not yet finished (queued, running, retrying), unless an admin"
        " set the user's own (0: unlimited)",
        min=0,
    )
    sign_in_url: str = setting(
        "",
        "the auth service's sign-in page the dashboard sends browsers to; empty: /signin on"
        " auth.port of the host the browser used",
    )
    relay: bool = setting(True, "run the outbox relay inside this process")
    scheduler: bool = setting(
        True,
        "run the schedule loop in this process; replicas share a database lease, so one fires"
        " at a time",
    )
    scheduler_tick_s: float = setting(
        1.0,
        "longest the scheduler sleeps between looks at the schedules (it wakes for the next"
        " due run sooner); also how often the firing replica renews its lease",
        min=0.05,
        max=60,
    )
    scheduler_lease_s: float = setting(
        10.0,
        "how long the firing replica's lease lasts unrenewed: after it dies, another replica"
        " takes over within this long (keep it several ticks)",
        min=0.5,
    )
    schedule_grace_s: float = setting(
        60.0,
        "a run that is older than this when the scheduler gets to it counts as missed, and its"
        " schedule's missedRuns policy decides",
        min=0,
    )
    workers: int = setting(
        1,
        "processes of `workq jobs`, each a full service on the same port (the first one runs"
        " the outbox relay)",
        min=1,
        max=64,
    )


@dataclass(frozen=True)
class ExecutorSettings:
    """Executors: concurrency, retries, deduplication."""

    processes: int = setting(1, "worker processes (CPU-bound jobs)", min=1, max=256)
    threads: int = setting(4, "threads per worker process (I/O-bound jobs)", min=1, max=1024)
    max_attempts: int = setting(5, "default attempts per item before dead-lettering", min=1)
    base_delay_ms: int = setting(1000, "default first retry delay, milliseconds", min=0)
    max_delay_ms: int = setting(60_000, "default largest retry delay, milliseconds", min=0)
    dedup_store: str = setting("memory", "dedup store plugin name (memory, sql, ...)")
    dedup_ttl_s: int = setting(86_400, "how long a completed item's key is remembered", min=1)
    shutdown_grace_s: float = setting(30.0, "how long SIGTERM waits for in-flight items", min=0)
    lease_s: float = setting(
        15.0,
        "how long a started item belongs to its executor without a renewal (renewed while the"
        " executor lives, see docs/timeouts.md); an item whose executor stopped runs elsewhere"
        " after about this long",
        min=0.1,
    )
    relay: bool = setting(True, "run the outbox relay (retries, re-runs) inside the executor")
    redeliver_after_s: float = setting(
        60.0,
        "re-publish items that wait while every live executor of their job type has been idle "
        "this long (messages the broker stopped delivering)",
        min=0.5,
    )
    batch_size: int = setting(
        32,
        "most items a worker thread claims and commits in one transaction (fast jobs)",
        min=1,
        max=1000,
    )
    host: str = setting(
        "127.0.0.1", "address the executor's /metrics, /healthz and /readyz server binds"
    )
    port: int = setting(
        3002,
        "HTTP port of the executor's /metrics, /healthz and /readyz (0: any free port)",
        min=0,
        max=65535,
    )
    progress_interval_s: float = setting(
        0.5,
        "handlers' progress reports are written at most once per item this often (the last"
        " one always, with the attempt's outcome)",
        min=0.05,
    )
    publish_window: int = setting(
        0,
        "most items of one job type published to the broker and not yet started; later"
        " higher-priority or other users' items wait behind at most this many (0: twice"
        " threads x batch_size for each live executor process, at least 64)",
        min=0,
    )


@dataclass(frozen=True)
class TransportSettings:
    """Which transport carries item messages."""

    name: str = setting("pulsar", "transport plugin name")


@dataclass(frozen=True)
class GraphQLSettings:
    """Limits every GraphQL endpoint enforces."""

    max_body_bytes: int = setting(16 * 1024 * 1024, "largest request body, bytes", min=1024)
    max_json_depth: int = setting(64, "deepest nesting of a JSON request body", min=4)
    max_depth: int = setting(12, "deepest selection in a query", min=2)
    max_aliases: int = setting(20, "most aliases in one document", min=1)
    max_tokens: int = setting(5_000, "most lexical tokens in one document", min=100)
    introspection: bool = setting(True, "allow schema introspection (GraphiQL needs it)")
    allowed_origins: tuple[str, ...] = setting(
        (),
        "origins (scheme://host[:port]) besides the service's own whose pages may send"
        " mutations authenticated by the cookie",
    )


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP server of the auth and jobs services (uvicorn)."""

    header_timeout_s: float = setting(
        10.0,
        "a connection whose request line and headers are not all in this long after it opened"
        " or its last request began is closed",
        min=0.1,
    )
    body_timeout_s: float = setting(
        30.0, "longest wait for a request's whole body; slower bodies get 408", min=0.1
    )
    keep_alive_s: float = setting(
        5.0, "how long an idle keep-alive connection stays open between requests", min=0.1
    )
    shutdown_grace_s: float = setting(
        10.0, "how long stopping waits for in-flight requests before cancelling them", min=0
    )
    threads: int = setting(
        32, "threads per process that run GraphQL operations (resolvers are blocking)", min=1
    )


@dataclass(frozen=True)
class TelemetrySettings:
    """Traces (OpenTelemetry); metrics and health endpoints need no settings."""

    otlp_endpoint: str = setting(
        "",
        "OTLP/HTTP traces URL (e.g. http://collector:4318/v1/traces); empty: no traces exported",
    )
    service_namespace: str = setting(
        "workq", "service.namespace resource attribute of exported spans"
    )


@dataclass(frozen=True)
class RetentionSettings:
    """How long finished jobs are kept, and the background task that deletes older ones."""

    max_age: str = setting(
        "30d",
        "finished jobs older than this are deleted with their items (a duration: 30d, 12h,"
        " 90m, 45s; 0 keeps them forever)",
    )
    interval_s: float = setting(
        3600.0, "how often the jobs service looks for jobs to delete, seconds", min=1
    )
    batch_size: int = setting(
        500, "most rows one delete transaction removes (short transactions, short locks)", min=1
    )

    def __post_init__(self) -> None:
        parse_duration_ms(self.max_age, "retention.max_age")  # a bad value fails at start-up

    @property
    def max_age_ms(self) -> int:
        """``max_age`` in milliseconds; 0 keeps finished jobs forever."""
        return parse_duration_ms(self.max_age, "retention.max_age")


@dataclass(frozen=True)
class SubscriptionsSettings:
    """GraphQL subscriptions (graphql-transport-ws over WebSocket) on the jobs service."""

    poll_s: float = setting(
        0.25,
        "how often the jobs service reads new item events while anyone subscribes (the"
        " longest an event waits before it is pushed, on top of its transaction's commit)",
        min=0.01,
    )
    max_per_connection: int = setting(
        20, "most subscriptions one WebSocket connection may have open at once", min=1
    )
    max_messages_per_s: float = setting(
        20.0,
        "messages a client may send per second on one connection (bursts of twice as many);"
        " more close it",
        min=1,
    )
    init_timeout_s: float = setting(
        10.0, "how long a new connection may take to send connection_init", min=0.1
    )
    max_message_bytes: int = setting(
        65_536,
        "largest message a client may send on a WebSocket (a bigger one closes it); bulk"
        " submissions go over HTTP, bounded by graphql.max_body_bytes",
        min=1024,
    )


CORE_SECTIONS: dict[str, type] = {
    "core": CoreSettings,
    "database": DatabaseSettings,
    "auth": AuthSettings,
    "jobs": JobsSettings,
    "executor": ExecutorSettings,
    "transport": TransportSettings,
    "graphql": GraphQLSettings,
    "http": HttpSettings,
    "telemetry": TelemetrySettings,
    "retention": RetentionSettings,
    "subscriptions": SubscriptionsSettings,
}
