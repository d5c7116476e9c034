"""``workq limits`` as an operator runs it: show, set (admins), reset, and refusals."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli, make_admin
from workq_entrypoints.stack import Stack


def test_an_admin_sets_shows_and_resets_limits(logged_in: Cli, stack: Stack, user: str) -> None:
    make_admin(stack, user)

    changed = logged_in(
        "limits",
        "set",
        "Fibonacci",
        "--key",
        "/iterations",
        "--concurrency",
        "2",
        "--rate",
        "10",
        "--per",
        "60",
    )
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == (
        "Fibonacci (override): 2 running and 10 per 60s per /iterations"
    )
    shown = logged_in("limits", "show", "Fibonacci", "--json")
    (record,) = json.loads(shown.stdout)
    assert record["source"] == "override"
    assert record["limits"] == [{"key": "/iterations", "concurrency": 2, "rate": 10, "perS": 60.0}]

    reset = logged_in("limits", "reset", "Fibonacci")
    assert reset.stdout.strip() == "Fibonacci (declared): no limits"


def test_refusals_are_one_clear_line(logged_in: Cli) -> None:
    not_admin = logged_in("limits", "set", "Fibonacci", "--concurrency", "1")
    assert not_admin.returncode == 1
    assert not_admin.stderr.strip() == "workq: error: Only an admin may change limits."
    unknown = logged_in("limits", "show", "Nope")
    assert unknown.returncode == 1 and "Unknown job type 'Nope'" in unknown.stderr
