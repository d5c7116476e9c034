"""``workq quota`` as a user and an admin run it: show, set, back to configured, refusals."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import Cli, make_admin, new_user
from workq_entrypoints.stack import Stack


def rows(stdout: str) -> list[list[str]]:
    """The table's rows after the title and header, split at runs of two or more spaces."""
    return [re.split(r"\s{2,}", line) for line in stdout.splitlines()[2:]]


def test_a_user_sees_their_own_quotas(logged_in: Cli, user: str) -> None:
    shown = logged_in("quota")
    assert shown.returncode == 0, shown.stderr
    title, header = shown.stdout.splitlines()[:2]
    found = re.fullmatch(rf"Quotas of {re.escape(user)} \(user (\d+)\):", title)
    assert found, title
    assert header.split() == ["QUOTA", "LIMIT", "SOURCE", "USED"]
    assert rows(shown.stdout) == [
        ["items per minute", "1000000", "configured", "0 this minute"],
        ["items waiting", "10000000", "configured", "0 waiting"],
    ]

    as_json = json.loads(logged_in("quota", "--json").stdout)
    assert as_json["userId"] == found.group(1)
    assert (as_json["itemsPerMinute"], as_json["itemsWaitingSource"]) == (1_000_000, "CONFIGURED")


def test_an_admin_sets_shows_and_clears_a_users_quota(
    logged_in: Cli, stack: Stack, user: str
) -> None:
    make_admin(stack, user)
    alice = new_user(stack)

    given = logged_in("quota", "set", alice, "--items-per-minute", "50", "--items-waiting", "0")
    assert given.returncode == 0, given.stderr
    assert given.stdout.startswith(f"Quotas of {alice} (user ")
    assert rows(given.stdout) == [
        ["items per minute", "50", "user", "0 this minute"],
        ["items waiting", "unlimited", "user", "0 waiting"],
    ]
    shown = json.loads(logged_in("quota", alice, "--json").stdout)
    assert (shown["itemsPerMinute"], shown["itemsWaiting"]) == (50, 0)

    # `configured` gives back the service's setting; the option left out is kept
    cleared = logged_in("quota", "set", alice, "--items-waiting", "configured")
    assert rows(cleared.stdout) == [
        ["items per minute", "50", "user", "0 this minute"],
        ["items waiting", "10000000", "configured", "0 waiting"],
    ]


def test_refusals_are_one_clear_line(logged_in: Cli, stack: Stack, user: str) -> None:
    alice = new_user(stack)
    read = logged_in("quota", alice)
    assert (read.returncode, read.stderr) == (
        1,
        "workq: error: Only an admin may read other users' quotas.\n",
    )
    change = logged_in("quota", "set", alice, "--items-waiting", "1")
    assert change.stderr == "workq: error: Only an admin may change quotas.\n"

    make_admin(stack, user)
    unknown = logged_in("quota", "nobody@example.com")
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "workq: error: No user has the email 'nobody@example.com'.\n",
    )
    bad = logged_in("quota", "set", alice, "--items-waiting", "lots")
    assert bad.returncode == 2
    assert "argument --items-waiting: expected a whole number" in bad.stderr
    assert "got 'lots'" in bad.stderr
    nothing = logged_in("quota", "set", alice)
    assert nothing.returncode == 2
    assert "set: give --items-per-minute and/or --items-waiting" in nothing.stderr
    stray = logged_in("quota", alice, "--items-waiting", "1")
    assert stray.returncode == 2
    assert "error: --items-per-minute and --items-waiting go with `workq quota set EMAIL`" in (
        stray.stderr
    )
    assert json.loads(logged_in("quota", alice, "--json").stdout)["itemsWaitingSource"] == (
        "CONFIGURED"
    )
