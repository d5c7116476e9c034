"""Hook markers and hook specifications: the whole contract between core and plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from workq_core.events import ItemEvent
    from workq_core.registry import JobTypeRegistry, Registry
    from workq_core.types import AuthBackendFactory, DedupStoreFactory, TransportFactory

PROJECT_NAME = "workq"
ENTRY_POINT_GROUP = "workq"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def workq_register_config_sections(registry: Registry[type]) -> None:
    """Register the configuration sections this plugin owns.

    Called once at start-up, before settings are resolved. Add a frozen
    dataclass per section: ``registry.add("jwt", JwtSettings)``. Its fields,
    with their defaults and ``metadata`` (``help``, ``env`` alias, ``secret``),
    become keys that the config file (``[jwt]``), ``WORKQ_JWT_<KEY>``
    environment variables and ``workq config`` know about.

    :param registry: where to add ``(section_name, dataclass_type)``.
    """


@hookspec
def workq_register_job_types(registry: JobTypeRegistry) -> None:
    """Register job types.

    Called once per process that needs job types (jobs service, executor,
    ``workq plugins``). Add objects that satisfy :class:`workq_core.JobType`:
    ``registry.add(job)``, keyed on ``job.name``. The job type is checked as it
    is added (every attribute present, a valid JSON Schema, ``retry`` a
    RetryPolicy or None); a failed check, or a name another plugin already
    added, is a start-up error naming the plugins.

    :param registry: where to add job types.
    """


@hookspec
def workq_register_auth_backends(registry: Registry[AuthBackendFactory]) -> None:
    """Register auth backend factories.

    The auth service builds the backend named by ``auth.backend``. A factory
    is called as ``factory(ctx)`` with a :class:`workq_core.ComponentContext`
    and returns an :class:`workq_core.AuthBackend`.

    :param registry: where to add ``(backend_name, factory)``.
    """


@hookspec
def workq_register_dedup_stores(registry: Registry[DedupStoreFactory]) -> None:
    """Register dedup store factories.

    The executor builds the store named by ``executor.dedup_store``. A factory
    is called as ``factory(ctx)`` with a :class:`workq_core.ComponentContext`
    and returns a :class:`workq_core.DedupStore`.

    :param registry: where to add ``(store_name, factory)``.
    """


@hookspec
def workq_register_transports(registry: Registry[TransportFactory]) -> None:
    """Register transport factories.

    Services build the transport named by ``transport.name``. A factory is
    called as ``factory(ctx)`` with a :class:`workq_core.ComponentContext` and
    returns a :class:`workq_core.Transport`.

    :param registry: where to add ``(transport_name, factory)``.
    """


@hookspec
def workq_item_started(event: ItemEvent) -> None:
    """An executor is about to run one item (its attempt is already counted).

    Observers only: an exception here is logged with the plugin's name and the
    item runs regardless. Every lifecycle hook runs while the attempt's trace
    span is current: ``workq_core.set_span_attributes({...})`` adds to it.

    :param event: the item, its job and attempt number; ``event.waited_ms`` is
        how long the attempt waited since it was due.
    """


@hookspec
def workq_item_succeeded(event: ItemEvent) -> None:
    """An item's result was committed.

    :param event: the item; ``event.duration_ms`` is set.
    """


@hookspec
def workq_item_failed(event: ItemEvent) -> None:
    """An attempt failed and the item will be retried after ``event.retry_in_ms``.

    :param event: the item; ``event.error`` and ``event.retry_in_ms`` are set.
    """


@hookspec
def workq_item_dead(event: ItemEvent) -> None:
    """An item used its last attempt (or was invalid) and was dead-lettered.

    :param event: the item; ``event.error`` is set.
    """
