"""The systems the runner knows, loaded lazily so a missing package skips only its system."""

from __future__ import annotations

import importlib
import importlib.util

from bench.systems.base import Job, RunContext, System

__all__ = [
    "DEFAULT_SYSTEMS",
    "REGISTRY",
    "Job",
    "RunContext",
    "System",
    "load",
    "unavailable_reason",
]

#: name -> ("module:Class", packages the adapter needs importable)
REGISTRY: dict[str, tuple[str, tuple[str, ...]]] = {
    "workq": ("bench.systems.workq_sys:WorkqSystem", ("workq_core",)),
    "workq-pg": ("bench.systems.workq_sys:WorkqPostgresSystem", ("workq_core", "psycopg2")),
    # the same on a genuine Apache Pulsar standalone broker (Java and Maven needed)
    "workq-pulsar": ("bench.systems.workq_sys:WorkqGenuinePulsarSystem", ("workq_core",)),
    "workq-pg-pulsar": (
        "bench.systems.workq_sys:WorkqPostgresGenuinePulsarSystem",
        ("workq_core", "psycopg2"),
    ),
    "celery": ("bench.systems.celery_sys:CelerySystem", ("celery",)),
    "dramatiq": ("bench.systems.dramatiq_sys:DramatiqSystem", ("dramatiq", "pika")),
    "dramatiq-4t": ("bench.systems.dramatiq_sys:Dramatiq4ThreadsSystem", ("dramatiq", "pika")),
    "rq-simple": ("bench.systems.rq_sys:RqSimpleSystem", ("rq", "redis")),
    "rq-fork": ("bench.systems.rq_sys:RqForkSystem", ("rq", "redis")),
    "pipe": ("bench.systems.pipe_sys:PipeSystem", ()),
}

#: What ``--systems`` means by default: Workq and its peers (``pipe`` is a floor, on request).
DEFAULT_SYSTEMS = ("workq", "workq-pg", "celery", "dramatiq", "rq-simple", "rq-fork")


def unavailable_reason(name: str) -> str | None:
    """Why ``name`` cannot run here (adapter or package missing), or None if it can."""
    target, packages = REGISTRY[name]
    module = target.split(":")[0]
    if importlib.util.find_spec(module) is None:
        return f"no adapter module {module} yet"
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    return f"not importable: {', '.join(missing)}" if missing else None


def load(name: str) -> System:
    """Instantiate the adapter registered under ``name``."""
    module, cls = REGISTRY[name][0].split(":")
    system: System = getattr(importlib.import_module(module), cls)()
    return system
