"""Subcommands; each module has ``register(subparsers, parent)``."""

from workq_entrypoints.commands import config_cmd, plugins_cmd

ALL = [plugins_cmd, config_cmd]
