"""Configuration: typed sections, layered sources, and where each value came from."""

from workq_core.config.dotenv import SERVICES, DotenvFile, read_dotenv_files
from workq_core.config.fields import setting
from workq_core.config.loader import Layers, Settings, resolve_core, resolve_settings
from workq_core.config.sections import (
    AuthSettings,
    CoreSettings,
    DatabaseSettings,
    ExecutorSettings,
    GraphQLSettings,
    HttpSettings,
    JobsSettings,
    RetentionSettings,
    SubscriptionsSettings,
    TelemetrySettings,
    TransportSettings,
)

__all__ = [
    "SERVICES",
    "AuthSettings",
    "CoreSettings",
    "DatabaseSettings",
    "DotenvFile",
    "ExecutorSettings",
    "GraphQLSettings",
    "HttpSettings",
    "JobsSettings",
    "Layers",
    "RetentionSettings",
    "Settings",
    "SubscriptionsSettings",
    "TelemetrySettings",
    "TransportSettings",
    "read_dotenv_files",
    "resolve_core",
    "resolve_settings",
    "setting",
]
