"""The plugin manager loads entry points, honours disabling, and names broken plugins."""

from __future__ import annotations

import pytest

from workq_core import ConfigError, DuplicateName, PluginError, hookimpl
from workq_core.catalog import Catalog
from workq_core.pluginmanager import create_plugin_manager
from workq_core.runtime import bootstrap
from workq_fibonacci import FibonacciJob


def test_shipped_plugins_come_from_the_distribution():
    pm = create_plugin_manager()
    assert pm.sources["fibonacci"].distribution == "workq-server"
    assert pm.sources["memory"].distribution == "workq-server"
    assert "Fibonacci" in Catalog(pm).job_types


def test_a_plugin_can_be_disabled_by_name():
    runtime = bootstrap(env={"WORKQ_CORE_DISABLE_PLUGINS": "fibonacci"})
    assert "fibonacci" not in dict(runtime.pm.list_name_plugin())
    assert "Fibonacci" not in runtime.catalog.job_types


class Misspelled:
    @hookimpl
    def workq_register_job_type(self, registry):  # missing the final "s"
        raise AssertionError("never called")


def test_an_unknown_hook_is_a_startup_error_naming_the_plugin():
    with pytest.raises(PluginError, match=r"'typo-plugin'.*workq_register_job_type"):
        create_plugin_manager(extra=[("typo-plugin", Misspelled())])


class WrongArguments:
    @hookimpl
    def workq_register_job_types(self, registry, extra_argument):
        raise AssertionError("never called")


def test_a_hook_with_a_wrong_signature_is_a_startup_error():
    with pytest.raises(PluginError, match="plugin 'bad-args' is invalid"):
        create_plugin_manager(extra=[("bad-args", WrongArguments())])


class AnotherFibonacci:
    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(FibonacciJob())


def test_a_name_registered_twice_names_both_plugins():
    runtime = bootstrap(extra_plugins=[("copycat", AnotherFibonacci())])
    with pytest.raises(DuplicateName, match="'Fibonacci' is registered by both plugin") as info:
        runtime.catalog.job_types  # noqa: B018 - collecting is what fails
    assert "'fibonacci'" in str(info.value) and "'copycat'" in str(info.value)


class RaisesInRegistration:
    @hookimpl
    def workq_register_dedup_stores(self, registry):
        raise RuntimeError("database not reachable")


def test_an_exception_in_a_registration_hook_names_the_plugin():
    runtime = bootstrap(extra_plugins=[("flaky", RaisesInRegistration())])
    with pytest.raises(PluginError, match="plugin 'flaky' failed in workq_register_dedup_stores"):
        runtime.catalog.dedup_stores  # noqa: B018


class Broken:
    name = "Broken"


class NotAJobType:
    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(Broken())


def test_a_job_type_without_schema_or_handler_is_refused_at_startup():
    runtime = bootstrap(extra_plugins=[("broken-job", NotAJobType())])
    with pytest.raises(
        PluginError,
        match="'broken-job': job type 'Broken' lacks description, input_schema, retry, run",
    ):
        runtime.catalog.job_types  # noqa: B018


class BadSchemaJob:
    name = "BadSchema"
    description = "has an invalid schema"
    input_schema = {"type": "no-such-type"}
    retry = None

    def run(self, data, ctx):
        return None


class BadSchemaPlugin:
    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(BadSchemaJob())


def test_a_job_type_with_an_invalid_schema_is_refused_at_startup():
    runtime = bootstrap(extra_plugins=[("bad-schema", BadSchemaPlugin())])
    with pytest.raises(PluginError, match="'bad-schema': job type 'BadSchema' has an invalid"):
        runtime.catalog.job_types  # noqa: B018


def test_choosing_a_component_nobody_provides_lists_the_installed_names():
    runtime = bootstrap(env={"WORKQ_EXECUTOR_DEDUP_STORE": "redis"})
    with pytest.raises(ConfigError, match=r"dedup store .redis.; installed: .*memory"):
        runtime.dedup_store()
