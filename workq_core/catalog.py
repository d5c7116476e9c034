"""Everything the installed plugins registered, collected once per process."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from workq_core.errors import PluginError, WorkqError
from workq_core.pluginmanager import WorkqPluginManager, call_each
from workq_core.registry import BaseRegistry, JobTypeRegistry, Registry
from workq_core.types import AuthBackendFactory, DedupStoreFactory, TransportFactory

R = TypeVar("R", bound=BaseRegistry[Any])


def collect(pm: WorkqPluginManager, hook_name: str, registry: R) -> R:
    """Call one registration hook plugin by plugin so every entry knows its provider."""
    for call in call_each(pm, hook_name, registry=registry):
        registry.providing(call.plugin)
        try:
            call.run()
        except WorkqError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {call.plugin!r} failed in {hook_name}: {type(exc).__name__}: {exc}"
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
    def job_types(self) -> JobTypeRegistry:
        return collect(self.pm, "workq_register_job_types", JobTypeRegistry())

    @cached_property
    def auth_backends(self) -> Registry[AuthBackendFactory]:
        return collect(self.pm, "workq_register_auth_backends", Registry("auth backend"))

    @cached_property
    def dedup_stores(self) -> Registry[DedupStoreFactory]:
        return collect(self.pm, "workq_register_dedup_stores", Registry("dedup store"))

    @cached_property
    def transports(self) -> Registry[TransportFactory]:
        return collect(self.pm, "workq_register_transports", Registry("transport"))

    def registries(self) -> list[BaseRegistry[Any]]:
        return [
            self.config_sections,
            self.job_types,
            self.auth_backends,
            self.dedup_stores,
            self.transports,
        ]
