"""Workq core: hook specs, plugin manager, configuration and the interfaces plugins implement."""

from workq_core.config import Settings, setting
from workq_core.errors import (
    AttemptTimedOut,
    AuthError,
    ConfigError,
    DuplicateName,
    Forbidden,
    InvalidPayload,
    InvalidProgress,
    JobTypeNotFound,
    PermanentFailure,
    PluginError,
    RateLimited,
    RetryLater,
    TransportError,
    Unavailable,
    UnknownName,
    WorkqError,
)
from workq_core.events import ItemEvent
from workq_core.hookspecs import hookimpl, hookspec
from workq_core.limits import Limit
from workq_core.registry import JobTypeRegistry, Registry
from workq_core.telemetry.tracing import set_span_attributes
from workq_core.types import (
    DEAD_LETTER_KEY,
    AuthBackend,
    ComponentContext,
    DedupStore,
    DefaultSchedule,
    Delivery,
    IssuedToken,
    JobContext,
    JobType,
    OutgoingMessage,
    Receiver,
    RetryPolicy,
    TokenClaims,
    Transport,
)

__version__ = "0.1.0"

__all__ = [
    "DEAD_LETTER_KEY",
    "AttemptTimedOut",
    "AuthBackend",
    "AuthError",
    "ComponentContext",
    "ConfigError",
    "DedupStore",
    "DefaultSchedule",
    "Delivery",
    "DuplicateName",
    "Forbidden",
    "InvalidPayload",
    "InvalidProgress",
    "IssuedToken",
    "ItemEvent",
    "JobContext",
    "JobType",
    "JobTypeNotFound",
    "JobTypeRegistry",
    "Limit",
    "OutgoingMessage",
    "PermanentFailure",
    "PluginError",
    "RateLimited",
    "Receiver",
    "Registry",
    "RetryLater",
    "RetryPolicy",
    "Settings",
    "TokenClaims",
    "Transport",
    "TransportError",
    "Unavailable",
    "UnknownName",
    "WorkqError",
    "__version__",
    "hookimpl",
    "hookspec",
    "set_span_attributes",
    "setting",
]
