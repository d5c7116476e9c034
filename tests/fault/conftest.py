"""Fault harness fixtures: a virtualenv with the FaultProbe plugin, stacks, scale selection.

The executor and jobs subprocesses only load entry-point plugins, so the
test plugin is pip-installed, but into a throwaway virtualenv that sees
this environment's packages (as tests/core/test_third_party_plugin.py
does), never into the shared one: other test runs on this machine must not
see an extra job type.

Scale: each scenario has a short form (runs by default and in CI) and a
heavy form (the issue's 2,000-item job, repeated faults). Heavy forms are
deselected, not skipped, unless ``-m`` names ``heavy`` or
``WORKQ_FAULT_SCALE=heavy``. The PostgreSQL outage stops a private server of
its own (``private_pg``), never the session's shared one.

Databases: PostgreSQL by default; ``WORKQ_FAULT_DB=sqlite`` runs every
scenario that applies on a SQLite file of each stack's own (the history
stays in PostgreSQL).

Brokers: every scenario runs on pulsar-lite and on genuine Apache Pulsar
(``fault_broker``, ids ``lite`` and ``genuine``). The genuine broker starts
once per session (tens of seconds), so by default only the scenarios marked
``genuine_default`` run on it, in their short form; ``-m genuine_faults``
selects all of them (``-m "genuine_faults and heavy"`` the heavy forms).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fault.harness import POSTGRES, SQLITE, Stack
from tests.support.brokers import GENUINE, LITE, TestBroker
from tests.support.postgres import PgServer

PLUGIN_DIST = Path(__file__).parent / "plugin_dist"
HEAVY_TIMEOUT_S = 1500


def markers_named(config: pytest.Config) -> set[str]:
    """The names ``-m`` mentions: a marker it names is its own logic's to apply, as pytest does."""
    return set(re.findall(r"[\w.-]+", config.getoption("-m") or ""))


def fault_database() -> str:
    """The stacks' database: PostgreSQL, or SQLite with ``WORKQ_FAULT_DB=sqlite``."""
    chosen = os.environ.get("WORKQ_FAULT_DB", POSTGRES)
    assert chosen in (POSTGRES, SQLITE), f"WORKQ_FAULT_DB: {chosen!r}, not {POSTGRES} or {SQLITE}"
    return chosen


def wanted(item: pytest.Item, named: set[str], database: str) -> bool:
    """Heavy forms only when ``-m`` names heavy; on genuine Pulsar the chosen few by default.

    An expression that names a marker is left to pytest to apply: ``-m "not
    heavy"`` keeps the short forms, ``-m "heavy and not genuine_faults"`` the
    heavy forms on pulsar-lite. ``WORKQ_FAULT_SCALE=heavy`` runs the heavy
    forms in place of the short ones. With ``WORKQ_FAULT_DB=sqlite``, scenarios
    marked ``postgres_only`` (a PostgreSQL link or server fault, the soak)
    are left out.
    """
    if "tests/fault/" not in item.nodeid.replace(os.sep, "/"):
        return True
    if database == SQLITE and item.get_closest_marker("postgres_only") is not None:
        return False
    heavy = item.get_closest_marker("heavy") is not None
    if os.environ.get("WORKQ_FAULT_SCALE") == "heavy":
        if not heavy:
            return False
    elif heavy and "heavy" not in named:
        return False
    if item.get_closest_marker("genuine_faults") is None or "genuine_faults" in named:
        return True
    return not heavy and item.get_closest_marker("genuine_default") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    named, database = markers_named(config), fault_database()
    keep, drop = [], []
    for item in items:
        (keep if wanted(item, named, database) else drop).append(item)
        if item.get_closest_marker("heavy") is not None and "tests/fault/" in item.nodeid:
            # the heavy forms' own waits (8 faults of up to 60 s, a 300 s drain) outlast
            # the suite's 300 s per test
            item.add_marker(pytest.mark.timeout(HEAVY_TIMEOUT_S))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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


@pytest.fixture(
    params=[
        pytest.param(LITE, id="lite"),
        pytest.param(GENUINE, id="genuine", marks=pytest.mark.genuine_faults),
    ]
)
def fault_broker(request: pytest.FixtureRequest) -> TestBroker | None:
    """None for a pulsar-lite of each stack's own; the session's genuine Apache Pulsar."""
    return None if request.param == LITE else request.getfixturevalue("genuine_broker")


@pytest.fixture
def make_stack(fault_python, tmp_path, pg_server, fault_broker) -> Iterator:
    stacks: list[Stack] = []

    def make(
        executors: int = 3, pg: PgServer | None = None, proxied: tuple[str, ...] = (), **env: str
    ) -> Stack:
        """A started stack; ``env`` is added to the environment of each of its processes.

        ``proxied`` names the links (``db``, ``broker``, ``auth``) that go through a fault proxy.
        """
        root = tmp_path / f"stack{len(stacks)}"
        stack = Stack(
            python=fault_python,
            root=root,
            pg=pg or pg_server,
            database=fault_database(),
            shared_broker=fault_broker,
            overrides=env,
            proxied=proxied,
        )
        stacks.append(stack)
        return stack.start(executors)

    yield make
    for stack in stacks:
        stack.stop()
