"""Every hook is documented with its exact signature and exercised through the core."""

from __future__ import annotations

import inspect
from pathlib import Path

from workq_core import ItemEvent, hookimpl, hookspecs
from workq_core.lifecycle import LIFECYCLE_HOOKS, emit
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


class EveryHook:
    """A plugin implementing every hook, recording that the core called it."""

    def __init__(self):
        self.called: set[str] = set()

    @hookimpl
    def workq_register_config_sections(self, registry):
        self.called.add("workq_register_config_sections")

    @hookimpl
    def workq_register_job_types(self, registry):
        self.called.add("workq_register_job_types")

    @hookimpl
    def workq_register_auth_backends(self, registry):
        self.called.add("workq_register_auth_backends")

    @hookimpl
    def workq_register_dedup_stores(self, registry):
        self.called.add("workq_register_dedup_stores")

    @hookimpl
    def workq_register_transports(self, registry):
        self.called.add("workq_register_transports")

    @hookimpl
    def workq_item_started(self, event):
        self.called.add("workq_item_started")

    @hookimpl
    def workq_item_succeeded(self, event):
        self.called.add("workq_item_succeeded")

    @hookimpl
    def workq_item_failed(self, event):
        self.called.add("workq_item_failed")

    @hookimpl
    def workq_item_dead(self, event):
        self.called.add("workq_item_dead")


def test_every_hook_is_called_by_the_core():
    plugin = EveryHook()
    runtime = bootstrap(env={}, extra_plugins=[("every-hook", plugin)])
    runtime.catalog.registries()
    event = ItemEvent(job_id="j", job_type="T", item_index=0, attempt=1, max_attempts=1)
    for hook in LIFECYCLE_HOOKS:
        emit(runtime.pm, hook, event)

    assert plugin.called == set(hook_specs())


def test_the_test_plugin_implements_every_hook_spec():
    implemented = {n for n in dir(EveryHook) if n.startswith("workq_")}
    assert implemented == set(hook_specs())
