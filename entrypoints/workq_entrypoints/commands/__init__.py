"""Subcommands; each module has ``register(subparsers, parent)``."""

from workq_entrypoints.commands import (
    auth_cmd,
    config_cmd,
    demo_cmd,
    executor_cmd,
    jobs_cmd,
    migrate_cmd,
    plugins_cmd,
    up_cmd,
)

ALL = [plugins_cmd, config_cmd, executor_cmd, migrate_cmd, auth_cmd, jobs_cmd, up_cmd, demo_cmd]
