"""Everything the installed plugins registered, collected once per process."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from workq_core.errors import PluginError, WorkqError
from workq_core.pluginmanager import WorkqPluginManager
from workq_core.registry import Registry
from workq_core.types import AuthBackendFactory, DedupStoreFactory, JobType, TransportFactory

T = TypeVar("T")


def collect(pm: WorkqPluginManager, hook_name: str, registry: Registry[T]) -> Registry[T]:
    """Call one registration hook plugin by plugin so every entry knows its provider."""
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():  # registration order, oldest first
        try:
            impl.function(registry=registry.providing(impl.plugin_name))
        except WorkqError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}"
            ) from None
    return registry


class Catalog:
    """The registries of one plugin manager, filled on first use."""

    def __init__(self, pm: WorkqPluginManager) -> None:
        self.pm = pm

    @cached_property
    def config_sections(self) -> Registry[type]:
        return collect(self.pm, "workq_register_config_sections", Registry("config section"))

    @cached_property
    def job_types(self) -> Registry[JobType]:
        registry: Registry[JobType] = collect(
            self.pm, "workq_register_job_types", Registry("job type")
        )
        for entry in registry.entries():
            _check_job_type(entry.plugin, entry.name, entry.value)
        return registry

    @cached_property
    def auth_backends(self) -> Registry[AuthBackendFactory]:
        return collect(self.pm, "workq_register_auth_backends", Registry("auth backend"))

    @cached_property
    def dedup_stores(self) -> Registry[DedupStoreFactory]:
        return collect(self.pm, "workq_register_dedup_stores", Registry("dedup store"))

    @cached_property
    def transports(self) -> Registry[TransportFactory]:
        return collect(self.pm, "workq_register_transports", Registry("transport"))

    def registries(self) -> list[Registry[Any]]:
        return [
            self.config_sections,
            self.job_types,
            self.auth_backends,
            self.dedup_stores,
            self.transports,
        ]


def _check_job_type(plugin: str, name: str, job: Any) -> None:
    """A job type without a usable schema or handler fails at start-up, not mid-run."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    missing = [a for a in ("name", "description", "input_schema", "run") if not hasattr(job, a)]
    if missing:
        raise PluginError(f"plugin {plugin!r}: job type {name!r} lacks {', '.join(missing)}")
    try:
        Draft202012Validator.check_schema(job.input_schema)
    except SchemaError as exc:
        raise PluginError(
            f"plugin {plugin!r}: job type {name!r} has an invalid input schema: {exc.message}"
        ) from None
