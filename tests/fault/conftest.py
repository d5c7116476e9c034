"""Fault harness fixtures: a virtualenv with the FaultProbe plugin, stacks, scale selection.

The executor and jobs subprocesses only load entry-point plugins, so the
test plugin is pip-installed, but into a throwaway virtualenv that sees
this environment's packages (as tests/core/test_third_party_plugin.py
does), never into the shared one: other test runs on this machine must not
see an extra job type.

Scale: each scenario has a short form (runs by default and in CI) and a
heavy form (the issue's 2,000-item job, repeated faults). Heavy forms are
deselected, not skipped, unless ``-m`` names ``heavy`` or
``WORKQ_FAULT_SCALE=heavy``. The PostgreSQL outage stops the machine's
shared server for a few seconds, so it runs only under the heavy selection,
with ``WORKQ_FAULT_PG=1``, or in CI (alone on its machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fault.harness import Stack

PLUGIN_DIST = Path(__file__).parent / "plugin_dist"


def heavy_selected(config: pytest.Config) -> bool:
    return "heavy" in (config.getoption("-m") or "") or os.environ.get("WORKQ_FAULT_SCALE") == (
        "heavy"
    )


def pg_outage_allowed(config: pytest.Config) -> bool:
    return heavy_selected(config) or bool(os.environ.get("WORKQ_FAULT_PG") or os.environ.get("CI"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    heavy = heavy_selected(config)
    keep, drop, last = [], [], []
    for item in items:
        if "tests/fault/" not in item.nodeid.replace(os.sep, "/"):
            keep.append(item)
            continue
        is_heavy = item.get_closest_marker("heavy") is not None
        needs_pg = item.get_closest_marker("pg_outage") is not None
        wanted = is_heavy == heavy if not needs_pg else pg_outage_allowed(config)
        (drop if not wanted else last if needs_pg else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # The outage runs after every other test, so none of them meets a restarting server.
    items[:] = keep + last


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pg_outage: stops the shared PostgreSQL server briefly")


@pytest.fixture(scope="session")
def fault_python(tmp_path_factory) -> str:
    """A virtualenv's python with the FaultProbe plugin installed (and everything else shared)."""
    root = tmp_path_factory.mktemp("fault-venv")
    venv.create(root, with_pip=False)
    site = next((root / "lib").glob("python3*/site-packages"))
    parent = sysconfig.get_paths()["purelib"]
    (site / "zz_workq_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    source = tmp_path_factory.mktemp("fault-dist") / "dist"
    shutil.copytree(PLUGIN_DIST, source)
    python = str(root / "bin" / "python")
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            str(source),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    assert sys.executable  # the parent interpreter's packages are reached through the .pth
    return python


@pytest.fixture
def make_stack(fault_python, tmp_path) -> Iterator:
    stacks: list[Stack] = []

    def make(executors: int = 3) -> Stack:
        stack = Stack(python=fault_python, root=tmp_path / f"stack{len(stacks)}")
        stacks.append(stack)
        return stack.start(executors)

    yield make
    for stack in stacks:
        stack.stop()
