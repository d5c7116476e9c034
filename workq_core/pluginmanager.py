"""Build the plugin manager: load the ``workq`` entry points, validate every plugin."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from workq_core import hookspecs
from workq_core.errors import PluginError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin came from: its distribution, or ``None`` for one registered in code."""

    distribution: str | None = None
    version: str | None = None


class WorkqPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers each plugin's distribution."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.sources: dict[str, PluginSource] = {}
        self.disabled: frozenset[str] = frozenset()

    def register_plugin(self, plugin: Any, name: str, source: PluginSource | None = None) -> None:
        """Register one plugin, turning pluggy's validation errors into PluginError."""
        try:
            self.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name!r} is invalid: {exc}") from None
        except ValueError as exc:
            raise PluginError(f"plugin {name!r} could not be registered: {exc}") from None
        self._refuse_wrappers(plugin, name)
        self.sources[name] = source or PluginSource()

    def _refuse_wrappers(self, plugin: Any, name: str) -> None:
        """Workq calls each implementation on its own (see :func:`call_each`): no wrappers."""
        for caller in self.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    self.unregister(plugin)
                    raise PluginError(
                        f"plugin {name!r}: {caller.name} is a wrapper; Workq hooks take plain "
                        "implementations only"
                    )

    def check_unknown_hooks(self) -> None:
        """Fail when a plugin implements a hook that no spec declares (a typo, usually)."""
        try:
            self.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {self.get_name(exc.plugin)!r}: {exc}") from None


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> Iterator[Call]:
    """One call per implementation of ``hook_name``, in the order pluggy calls them.

    Pluggy's own rules, applied one implementation at a time: ``tryfirst`` and
    newest registrations first, and each implementation gets only the
    arguments it names (fewer than the spec is fine). One at a time, because
    the core must know which plugin registered an entry and must contain a
    failing observer without skipping the others, which ``pm.hook.X()`` does
    not allow.
    """
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        args = [kwargs[name] for name in impl.argnames]
        yield Call(impl.plugin_name, functools.partial(impl.function, *args))


@dataclass(frozen=True)
class Call:
    """One pending call of one plugin's implementation of a hook."""

    plugin: str
    run: Callable[[], Any]


def create_plugin_manager(
    disabled: Collection[str] = (),
    *,
    extra: Iterable[tuple[str, Any]] = (),
    load_entry_points: bool = True,
) -> WorkqPluginManager:
    """Load every installed plugin except those named in ``disabled``.

    ``extra`` registers in-code plugins (name, object) as if installed, which
    is how tests add a plugin without building a distribution.
    """
    pm = WorkqPluginManager()
    pm.disabled = frozenset(disabled)
    if load_entry_points:
        for ep in entry_points(group=hookspecs.ENTRY_POINT_GROUP):
            if ep.name in pm.disabled:
                logger.debug("plugin disabled by configuration", extra={"plugin": ep.name})
                continue
            pm.register_plugin(_load(ep), ep.name, _source(ep))
    for name, plugin in extra:
        if name not in pm.disabled:
            pm.register_plugin(plugin, name)
    pm.check_unknown_hooks()
    return pm


def _load(ep: EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as exc:  # any import-time failure belongs to that plugin
        dist = _source(ep).distribution or "unknown distribution"
        raise PluginError(
            f"plugin {ep.name!r} ({dist}, {ep.value}) failed to import: {type(exc).__name__}: {exc}"
        ) from None


def _source(ep: EntryPoint) -> PluginSource:
    dist = ep.dist
    if dist is None:
        return PluginSource()
    return PluginSource(distribution=dist.metadata["Name"], version=dist.version)
