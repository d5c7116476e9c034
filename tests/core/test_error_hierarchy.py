"""One error hierarchy: every exception class Workq defines derives from WorkqError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from workq_core import WorkqError

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists())
PACKAGES = ["workq_core", "workq_entrypoints", *PLUGINS]


def defined_exceptions() -> list[type[BaseException]]:
    """Every exception class defined (not merely imported) in Workq's own modules."""
    found: list[type[BaseException]] = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names = [package_name]
        if hasattr(package, "__path__"):
            prefix = f"{package_name}."
            modules = pkgutil.walk_packages(package.__path__, prefix)
            names += [m.name for m in modules if not m.name.endswith(".__main__")]
        for name in names:
            module = importlib.import_module(name)
            for _, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, BaseException) and value.__module__ == name:
                    found.append(value)
    return found


def test_every_exception_workq_defines_is_a_workq_error():
    exceptions = defined_exceptions()
    assert len(exceptions) > 10, exceptions  # the walk found the modules
    strays = [
        f"{e.__module__}.{e.__qualname__}" for e in exceptions if not issubclass(e, WorkqError)
    ]
    assert strays == []
