"""Which fault scenarios a ``-m`` expression selects (tests/fault/conftest.py ``wanted``).

Collected in a separate pytest process, as a user's command line would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FAULT_DIR = Path(__file__).parent


def collected(*args: str, **env: str) -> list[str]:
    """Test ids a collection selects; ``env`` adds to an environment without fault settings."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    base = {k: v for k, v in os.environ.items() if k not in ("WORKQ_FAULT_DB", "WORKQ_FAULT_SCALE")}
    result = subprocess.run(
        [*command, *args, str(FAULT_DIR)],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [line for line in result.stdout.splitlines() if "::" in line]


@pytest.fixture(scope="module")
def default() -> list[str]:
    return collected()


def test_the_default_run_has_no_heavy_form_and_only_the_chosen_genuine_ones(default):
    assert default and not any(test.endswith(("-heavy]", "-full]")) for test in default)
    genuine = [test for test in default if "[genuine" in test]
    assert genuine and all("short" in test for test in genuine)


def test_not_heavy_keeps_the_short_forms(default):
    # "heavy" named in -m is pytest's to apply, not a switch to the heavy forms
    assert collected("-m", "not heavy") == default


def test_heavy_forms_and_every_genuine_form_together():
    tests = collected("-m", "(heavy or genuine_faults) and not soak")
    assert any("[lite-heavy]" in t for t in tests) and any("[genuine-heavy]" in t for t in tests)
    assert any("[genuine-short]" in t for t in tests)  # the genuine short forms are not dropped
    assert not any(t.endswith("-full]") for t in tests)  # the soak's full form


def test_the_soak_alone():
    assert [t.rsplit("::", 1)[1] for t in collected("-m", "heavy and soak")] == [
        "test_soak_many_jobs_two_executors_killed_now_and_then[lite-full]"
    ]


def test_on_sqlite_the_postgres_only_scenarios_are_left_out(default):
    on_sqlite = collected(WORKQ_FAULT_DB="sqlite")
    gone = set(default) - set(on_sqlite)
    assert {t.split("::")[1].split("[")[0] for t in gone} == {
        "test_database_link_latency_drops_and_stall",
        "test_postgres_stopped_and_restarted_during_a_run",
        "test_soak_many_jobs_two_executors_killed_now_and_then",
    }
    assert set(on_sqlite) < set(default)
