"""Every hook is documented with its exact signature and exercised through the core."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from workq_core import PluginError, hookimpl, hookspecs
from workq_core.runtime import bootstrap

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def hook_specs() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(func)
        for name, func in vars(hookspecs).items()
        if name.startswith("workq_") and callable(func)
    }


def documented_signature(name: str, sig: inspect.Signature) -> str:
    return f"### `{name}({', '.join(sig.parameters)})`"


def test_every_hook_has_a_docstring_and_a_section_in_the_plugin_guide():
    guide = DOCS.read_text()
    for name, sig in hook_specs().items():
        assert inspect.getdoc(getattr(hookspecs, name)), f"{name} lacks a docstring"
        assert documented_signature(name, sig) in guide, f"{name} is not documented in {DOCS.name}"


class EveryHookWithoutArguments:
    """Implements every hook taking none of its arguments, as pluggy allows; records calls."""

    def __init__(self):
        self.called: list[str] = []

    @hookimpl
    def workq_register_config_sections(self):
        self.called.append("workq_register_config_sections")

    @hookimpl
    def workq_register_job_types(self):
        self.called.append("workq_register_job_types")

    @hookimpl
    def workq_register_auth_backends(self):
        self.called.append("workq_register_auth_backends")

    @hookimpl
    def workq_register_dedup_stores(self):
        self.called.append("workq_register_dedup_stores")

    @hookimpl
    def workq_register_transports(self):
        self.called.append("workq_register_transports")

    @hookimpl
    def workq_item_started(self):
        self.called.append("workq_item_started")

    @hookimpl
    def workq_item_succeeded(self):
        self.called.append("workq_item_succeeded")

    @hookimpl
    def workq_item_failed(self):
        self.called.append("workq_item_failed")

    @hookimpl
    def workq_item_dead(self):
        self.called.append("workq_item_dead")


def test_the_test_plugin_implements_every_hook_spec():
    implemented = {n for n in dir(EveryHookWithoutArguments) if n.startswith("workq_")}
    assert implemented == set(hook_specs())


def test_registration_hooks_are_called_with_only_the_arguments_they_take(caplog):
    # Given a plugin whose registration hooks take no arguments (fewer than the spec)
    plugin = EveryHookWithoutArguments()
    runtime = bootstrap(env={}, extra_plugins=[("no-args", plugin)])
    # When the core collects every registry
    runtime.catalog.registries()
    # Then each registration hook was called once, and nothing failed
    registration = [name for name in hook_specs() if name.startswith("workq_register_")]
    assert sorted(plugin.called) == sorted(registration)
    assert "failed" not in caplog.text
    # (lifecycle hooks: tests/executor/test_lifecycle_hooks.py drives a real item)


class Wrapper:
    @hookimpl(wrapper=True)
    def workq_item_started(self, event):
        return (yield)


def test_a_wrapper_implementation_is_a_startup_error():
    with pytest.raises(PluginError, match="'wrapping': workq_item_started is a wrapper"):
        bootstrap(env={}, extra_plugins=[("wrapping", Wrapper())])
