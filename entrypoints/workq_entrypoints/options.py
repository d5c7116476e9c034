"""Options every subcommand shares, and turning parsed flags into a runtime."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workq_core.config import SERVICES, DotenvFile, read_dotenv_files
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


def dotenv_service(args: argparse.Namespace) -> str | None:
    """Whose ``.env.<service>`` this command reads.

    ``workq auth``, ``jobs`` and ``executor`` read their own; ``workq config
    --service NAME`` shows that service's view; every other command, ``workq
    up`` included (it runs all three, whose files could disagree), reads only
    the shared ``.env``.
    """
    command = getattr(args, "command", None)
    if command in SERVICES:
        return str(command)
    return getattr(args, "dotenv_service", None)


def dotenv_from(args: argparse.Namespace) -> tuple[DotenvFile, ...]:
    """The ``.env`` files of the working directory that apply to this command, highest first."""
    return read_dotenv_files(Path.cwd(), dotenv_service(args))


def bootstrap_args(args: argparse.Namespace) -> dict[str, Any]:
    """``bootstrap()``'s arguments for this command, with the ``.env`` files read now.

    Executors hand the same dict to their worker processes, so those resolve
    exactly the parent's settings without reading the files again.
    """
    return {"config_file": args.config, "flags": flags_from(args), "dotenv": dotenv_from(args)}


def runtime_from(
    args: argparse.Namespace,
    *,
    configure_logs: bool = True,
    boot: Mapping[str, Any] | None = None,
) -> Runtime:
    """The runtime from ``boot`` (``bootstrap_args(args)`` when not given)."""
    runtime = bootstrap(**(boot if boot is not None else bootstrap_args(args)))
    if configure_logs:
        core = runtime.settings.core
        configure_logging(core.log_level, core.log_format)
    return runtime


def stack_options(parser: argparse.ArgumentParser) -> None:
    """Flags shared by ``workq up`` and ``workq demo``."""
    setting_flag(parser, "--auth-port", "auth.port", help="auth GraphQL port (default 3000)")
    setting_flag(parser, "--jobs-port", "jobs.port", help="jobs GraphQL port (default 3001)")
    setting_flag(parser, "--grpc-port", "auth.grpc_port", help="auth gRPC port (default 5000)")
    setting_flag(
        parser,
        "--executor-port",
        "executor.port",
        help="executor /metrics, /healthz, /readyz port (default 3002)",
    )
    setting_flag(parser, "--processes", "executor.processes", help="executor worker processes")
    setting_flag(parser, "--threads", "executor.threads", help="threads per worker process")
