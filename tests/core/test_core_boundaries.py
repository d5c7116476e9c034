"""The core reaches shipped plugins only through the plugin manager, never by import."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def plugin_packages() -> set[str]:
    return {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_there_are_plugin_packages_to_check():
    assert {"workq_fibonacci", "workq_memory_dedup"} <= plugin_packages()


def test_core_imports_nothing_from_plugins():
    forbidden = plugin_packages() | {"plugins", "workq_entrypoints"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & forbidden)
        for path in (ROOT / "workq_core").rglob("*.py")
        if imported_modules(path) & forbidden
    }
    assert offenders == {}


def test_plugins_import_only_the_public_core_api():
    offenders = []
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workq_core."):
                offenders.append(f"{path.relative_to(ROOT)}: from {node.module}")
    assert offenders == []
