"""Layered settings: defaults < config file < ``.env`` files < WORKQ_* environment < flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from workq_core.config.dotenv import DotenvFile, first_value
from workq_core.config.fields import convert, field_types
from workq_core.config.sections import (
    CORE_SECTIONS,
    AuthSettings,
    CoreSettings,
    DatabaseSettings,
    ExecutorSettings,
    GraphQLSettings,
    HttpSettings,
    JobsSettings,
    RetentionSettings,
    SubscriptionsSettings,
    TelemetrySettings,
    TransportSettings,
)
from workq_core.errors import ConfigError

T = TypeVar("T")
DEFAULT_CONFIG_FILE = "workq.toml"


@dataclass(frozen=True)
class Layers:
    """The raw inputs, before they are typed: file tables, ``.env`` files, environment, flags.

    ``dotenv`` is highest precedence first (``.env.<service>``, then ``.env``);
    the entry point parses those files and passes them in, so library code never
    reads a working directory's ``.env`` behind a caller's back.
    """

    file: Mapping[str, Any]
    file_path: str | None
    env: Mapping[str, str]
    flags: Mapping[str, Any]
    dotenv: tuple[DotenvFile, ...] = ()

    @classmethod
    def read(
        cls,
        config_file: str | None = None,
        env: Mapping[str, str] | None = None,
        flags: Mapping[str, Any] | None = None,
        dotenv: Sequence[DotenvFile] = (),
    ) -> Layers:
        """Read the config file named, or WORKQ_CONFIG (environment, then .env), or ./workq.toml."""
        env = dict(os.environ if env is None else env)
        dotenv = tuple(dotenv)
        from_dotenv = first_value(dotenv, ["WORKQ_CONFIG"])
        path = (
            config_file or env.get("WORKQ_CONFIG") or (from_dotenv[0] if from_dotenv else None)
        ) or None
        if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
            path = DEFAULT_CONFIG_FILE
        data: dict[str, Any] = {}
        if path is not None:
            try:
                data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ConfigError(f"config file {path} does not exist") from None
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
            for name, table in data.items():
                if not isinstance(table, dict):
                    raise ConfigError(f"config file {path}: {name!r} must be a [table]")
        return cls(file=data, file_path=path, env=env, flags=dict(flags or {}), dotenv=dotenv)

    def resolve(self, name: str, cls: type[T]) -> tuple[T, dict[str, str]]:
        """Build section ``name`` from the layers; returns it and each key's source."""
        table = self.file.get(name, {})
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"config file {self.file_path}: unknown key {name}.{unknown[0]}; "
                f"known keys: {', '.join(sorted(known))}"
            )
        types_ = field_types(cls)
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            raw, source = self._pick(name, f)
            if source == "default":
                values[f.name] = f.default
            else:
                values[f.name] = convert(
                    raw, types_[f.name], f"{name}.{f.name} (from {source})", dict(f.metadata)
                )
            sources[f"{name}.{f.name}"] = source
        return cls(**values), sources

    def _pick(self, section: str, f: dataclasses.Field[Any]) -> tuple[Any, str]:
        key = f"{section}.{f.name}"
        if key in self.flags and self.flags[key] is not None:
            return self.flags[key], "flag"
        # Within one layer the WORKQ_ name beats its legacy alias; across layers
        # the higher layer wins whichever of the two names it uses.
        alias = f.metadata.get("env")
        names = [f"WORKQ_{section.upper()}_{f.name.upper()}", *([alias] if alias else [])]
        for env_name in names:
            if env_name in self.env:
                return self.env[env_name], f"env {env_name}"
        from_dotenv = first_value(self.dotenv, names)
        if from_dotenv is not None:
            return from_dotenv
        if f.name in self.file.get(section, {}):
            return self.file[section][f.name], f"file {self.file_path}"
        return None, "default"


@dataclass(frozen=True)
class Settings:
    """Resolved, typed, frozen settings for every known section."""

    sections: Mapping[str, Any]
    sources: Mapping[str, str]

    def section(self, name: str) -> Any:
        try:
            return self.sections[name]
        except KeyError:
            raise ConfigError(f"unknown configuration section {name!r}") from None

    @property
    def core(self) -> CoreSettings:
        return self.sections["core"]

    @property
    def database(self) -> DatabaseSettings:
        return self.sections["database"]

    @property
    def auth(self) -> AuthSettings:
        return self.sections["auth"]

    @property
    def jobs(self) -> JobsSettings:
        return self.sections["jobs"]

    @property
    def executor(self) -> ExecutorSettings:
        return self.sections["executor"]

    @property
    def transport(self) -> TransportSettings:
        return self.sections["transport"]

    @property
    def graphql(self) -> GraphQLSettings:
        return self.sections["graphql"]

    @property
    def http(self) -> HttpSettings:
        return self.sections["http"]

    @property
    def telemetry(self) -> TelemetrySettings:
        return self.sections["telemetry"]

    @property
    def retention(self) -> RetentionSettings:
        return self.sections["retention"]

    @property
    def subscriptions(self) -> SubscriptionsSettings:
        return self.sections["subscriptions"]

    @property
    def data_dir(self) -> Path:
        return Path(self.core.data_dir)

    @property
    def database_url(self) -> str:
        """DATABASE_URL, or the SQLite file under the data directory."""
        return self.database.url or f"sqlite:///{(self.data_dir / 'workq.db').resolve()}"

    def replace(self, name: str, **changes: Any) -> Settings:
        """A copy with some keys of one section changed (marked as set by a flag)."""
        sections = dict(self.sections)
        sections[name] = dataclasses.replace(sections[name], **changes)
        sources = dict(self.sources)
        sources.update({f"{name}.{key}": "flag" for key in changes})
        return Settings(sections, sources)


def resolve_core(layers: Layers) -> CoreSettings:
    """The core section alone: needed before plugins load (it lists disabled ones)."""
    return layers.resolve("core", CoreSettings)[0]


def resolve_settings(layers: Layers, plugin_sections: Mapping[str, type] | None = None) -> Settings:
    """All sections: the core's and those installed plugins registered."""
    all_sections = {**CORE_SECTIONS, **(plugin_sections or {})}
    sections: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, cls in all_sections.items():
        sections[name], section_sources = layers.resolve(name, cls)
        sources.update(section_sources)
    unknown = sorted(set(layers.file) - set(all_sections))
    if unknown:
        raise ConfigError(
            f"config file {layers.file_path}: unknown section [{unknown[0]}]; "
            f"known sections: {', '.join(sorted(all_sections))}"
        )
    return Settings(sections, sources)
