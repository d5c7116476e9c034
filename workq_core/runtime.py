"""Start-up in one place: read settings, load plugins, resolve named components."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workq_core.catalog import Catalog
from workq_core.config import DotenvFile, Layers, Settings, resolve_core, resolve_settings
from workq_core.pluginmanager import WorkqPluginManager, create_plugin_manager
from workq_core.types import AuthBackend, ComponentContext, DedupStore, Transport

if TYPE_CHECKING:
    import peewee


@dataclass(frozen=True)
class Runtime:
    """The settings, plugin manager and registries one process runs with."""

    settings: Settings
    pm: WorkqPluginManager
    catalog: Catalog

    def context(self, database: peewee.Database | None = None) -> ComponentContext:
        return ComponentContext(settings=self.settings, database=database)

    def auth_backend(self, database: peewee.Database | None = None) -> AuthBackend:
        factory = self.catalog.auth_backends.get(self.settings.auth.backend)
        return factory(self.context(database))

    def dedup_store(self, database: peewee.Database | None = None) -> DedupStore:
        factory = self.catalog.dedup_stores.get(self.settings.executor.dedup_store)
        return factory(self.context(database))

    def transport(self) -> Transport:
        factory = self.catalog.transports.get(self.settings.transport.name)
        return factory(self.context())


def bootstrap(
    *,
    config_file: str | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    dotenv: Sequence[DotenvFile] = (),
    extra_plugins: Iterable[tuple[str, Any]] = (),
    load_entry_points: bool = True,
) -> Runtime:
    """Resolve settings and plugins for one process; raises ConfigError or PluginError.

    ``dotenv`` is the parsed ``.env`` files (highest first) the entry point read.
    """
    layers = Layers.read(config_file, env, flags, dotenv)
    core = resolve_core(layers)
    pm = create_plugin_manager(
        core.disable_plugins, extra=extra_plugins, load_entry_points=load_entry_points
    )
    catalog = Catalog(pm)
    sections = {entry.name: entry.value for entry in catalog.config_sections.entries()}
    return Runtime(resolve_settings(layers, sections), pm, catalog)
