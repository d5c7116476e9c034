"""Named registries that plugins fill through registration hooks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from workq_core.errors import DuplicateName, PluginError, UnknownName

T = TypeVar("T")

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered thing and the plugin that provided it."""

    name: str
    value: T
    plugin: str


class Registry(Generic[T]):
    """Validates names, rejects duplicates naming both plugins, records providers.

    ``kind`` is what the entries are ("job type", "dedup store", ...) and is
    used in every error message.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._plugin = "<unknown>"

    def providing(self, plugin: str) -> Registry[T]:
        """Attribute the following ``add`` calls to ``plugin``."""
        self._plugin = plugin
        return self

    def add(self, name: str, value: T) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise PluginError(
                f"plugin {self._plugin!r} registered an invalid {self.kind} name {name!r}: "
                "use 1-64 letters, digits, '_', '-' or '.', starting with a letter"
            )
        existing = self._entries.get(name)
        if existing is not None:
            raise DuplicateName(
                f"{self.kind} {name!r} is registered by both plugin {existing.plugin!r} "
                f"and plugin {self._plugin!r}; disable one of them"
            )
        self._entries[name] = Entry(name, value, self._plugin)

    def get(self, name: str) -> T:
        """The value registered as ``name``; UnknownName lists the installed names."""
        try:
            return self._entries[name].value
        except KeyError:
            installed = ", ".join(sorted(self._entries)) or "none"
            raise UnknownName(
                f"no installed plugin provides the {self.kind} {name!r}; installed: {installed}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
