"""Named registries that plugins fill through registration hooks."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from workq_core.errors import DuplicateName, JobTypeNotFound, PluginError, UnknownName
from workq_core.limits.spec import check_limits
from workq_core.limits.store import declared_by
from workq_core.types import JobType, RetryPolicy

T = TypeVar("T")

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
JOB_TYPE_ATTRIBUTES = ("name", "description", "input_schema", "retry", "run")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered thing and the plugin that provided it."""

    name: str
    value: T
    plugin: str


class BaseRegistry(Generic[T]):
    """Validates names, rejects duplicates naming both plugins, records providers.

    ``kind`` is what the entries are ("job type", "dedup store", ...) and is
    used in every error message.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._plugin = "<unknown>"

    def providing(self, plugin: str) -> Self:
        """Attribute the following ``add`` calls to ``plugin``."""
        self._plugin = plugin
        return self

    def _put(self, name: str, value: T) -> None:
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
            raise UnknownName(
                f"no installed plugin provides the {self.kind} {name!r}; "
                f"installed: {self._installed()}"
            ) from None

    def _installed(self) -> str:
        return ", ".join(sorted(self._entries)) or "none"

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)


class Registry(BaseRegistry[T]):
    """Things registered under a name of the plugin's choosing (sections, factories)."""

    def add(self, name: str, value: T) -> None:
        self._put(name, value)


class JobTypeRegistry(BaseRegistry[JobType]):
    """Job types, each keyed on its own ``name``: it cannot be registered as anything else.

    The jobs service publishes to the topic of the name a client asked for
    and executors read the topics of the names they have, so a key that
    differed from ``job.name`` would strand every item. Each job type is
    checked when it is added, so a broken one fails at start-up with its
    plugin named rather than in the middle of a run.
    """

    def __init__(self) -> None:
        super().__init__("job type")

    def add(self, job: JobType) -> None:
        check_job_type(self._plugin, job)
        self._put(job.name, job)

    def get(self, name: str) -> JobType:
        """The job type ``name``; JobTypeNotFound lists the installed ones."""
        if name not in self:
            raise JobTypeNotFound(f"Unknown job type {name!r}; available: {self._installed()}.")
        return super().get(name)


def check_job_type(plugin: str, job: Any) -> None:
    """Every attribute of the JobType protocol present and usable, else PluginError.

    ``timeout_s`` is optional (absent means None); when set it must be a
    positive, finite number of seconds.
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    label = f"job type {getattr(job, 'name', job)!r}"
    missing = [a for a in JOB_TYPE_ATTRIBUTES if not hasattr(job, a)]
    if missing:
        raise PluginError(f"plugin {plugin!r}: {label} lacks {', '.join(missing)}")
    if not callable(job.run):
        raise PluginError(f"plugin {plugin!r}: {label} has a run that is not callable")
    if job.retry is not None and not isinstance(job.retry, RetryPolicy):
        raise PluginError(
            f"plugin {plugin!r}: {label} has retry {job.retry!r}; expected a RetryPolicy or None"
        )
    timeout = getattr(job, "timeout_s", None)
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout < math.inf
    ):
        raise PluginError(
            f"plugin {plugin!r}: {label} has timeout_s {timeout!r}; "
            "expected a positive number of seconds or None"
        )
    try:
        check_limits(declared_by(job))
    except ValueError as exc:
        raise PluginError(f"plugin {plugin!r}: {label} has invalid limits: {exc}") from None
    try:
        Draft202012Validator.check_schema(job.input_schema)
    except SchemaError as exc:
        raise PluginError(
            f"plugin {plugin!r}: {label} has an invalid input schema: {exc.message}"
        ) from None
    # Imported here, as jsonschema is: the registry loads nothing of the database layer.
    from workq_core.schedules.defaults import check_declared

    check_declared(plugin, job)


def timeout_of(job: JobType) -> float | None:
    """The job type's ``timeout_s`` (checked at registration), or None when it declares none."""
    timeout = getattr(job, "timeout_s", None)
    return None if timeout is None else float(timeout)
