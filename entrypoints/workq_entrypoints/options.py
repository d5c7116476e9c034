"""Options every subcommand shares, and turning parsed flags into a runtime."""

from __future__ import annotations

import argparse
from typing import Any

from workq_core.logs import configure_logging
from workq_core.runtime import Runtime, bootstrap

FLAG_PREFIX = "set:"


def common_options() -> argparse.ArgumentParser:
    """A parent parser: config file, data dir, plugins, logging, generic --set."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("common options")
    group.add_argument(
        "--config", metavar="FILE", help="TOML config file (default: ./workq.toml if present)"
    )
    setting_flag(group, "--data-dir", "core.data_dir", help="data directory (default .workq)")
    setting_flag(
        group, "--log-level", "core.log_level", help="DEBUG, INFO, WARNING, ERROR or CRITICAL"
    )
    setting_flag(group, "--log-format", "core.log_format", help="json, text or auto")
    group.add_argument(
        "--disable-plugin",
        action="append",
        metavar="NAME",
        dest=FLAG_PREFIX + "core.disable_plugins",
        help="do not load this plugin (repeatable)",
    )
    group.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        dest="overrides",
        help="set any configuration key (repeatable)",
    )
    return parent


def setting_flag(parser: Any, flag: str, key: str, **kwargs: Any) -> None:
    """A flag that sets configuration key ``key`` (highest precedence)."""
    kwargs.setdefault("metavar", key.rpartition(".")[2].upper())
    parser.add_argument(flag, dest=FLAG_PREFIX + key, default=None, **kwargs)


def flags_from(args: argparse.Namespace) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    for override in getattr(args, "overrides", []):
        key, sep, value = override.partition("=")
        if not sep or "." not in key:
            from workq_core import ConfigError

            raise ConfigError(f"--set {override!r}: expected SECTION.KEY=VALUE")
        flags[key.strip()] = value
    for dest, value in vars(args).items():
        if dest.startswith(FLAG_PREFIX) and value is not None:
            flags[dest[len(FLAG_PREFIX) :]] = value
    return flags


def runtime_from(args: argparse.Namespace, *, configure_logs: bool = True) -> Runtime:
    runtime = bootstrap(config_file=args.config, flags=flags_from(args))
    if configure_logs:
        core = runtime.settings.core
        configure_logging(core.log_level, core.log_format)
    return runtime


def stack_options(parser: argparse.ArgumentParser) -> None:
    """Flags shared by ``workq up`` and ``workq demo``."""
    setting_flag(parser, "--auth-port", "auth.port", help="auth GraphQL port (default 3000)")
    setting_flag(parser, "--jobs-port", "jobs.port", help="jobs GraphQL port (default 3001)")
    setting_flag(parser, "--grpc-port", "auth.grpc_port", help="auth gRPC port (default 5000)")
    setting_flag(parser, "--processes", "executor.processes", help="executor worker processes")
    setting_flag(parser, "--threads", "executor.threads", help="threads per worker process")
