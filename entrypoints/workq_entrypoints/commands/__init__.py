"""Subcommands; each module has ``register(subparsers, parent)``."""

from workq_entrypoints.commands import (
    auth_cmd,
    config_cmd,
    demo_cmd,
    executor_cmd,
    jobs_cmd,
    limits_cmd,
    list_cmd,
    login_cmd,
    migrate_cmd,
    new_plugin_cmd,
    plugins_cmd,
    purge_cmd,
    quota_cmd,
    schedule_cmd,
    status_cmd,
    submit_cmd,
    up_cmd,
    watch_cmd,
)

ALL = [plugins_cmd, config_cmd, executor_cmd, migrate_cmd, purge_cmd, auth_cmd, jobs_cmd, up_cmd]
ALL += [demo_cmd]
ALL += [login_cmd, submit_cmd, status_cmd, watch_cmd, list_cmd, new_plugin_cmd]
ALL += [schedule_cmd]
ALL += [limits_cmd, quota_cmd]
