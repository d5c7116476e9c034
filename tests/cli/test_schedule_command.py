"""``workq schedule`` as a subprocess against a real local stack."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli


def test_create_list_show_pause_resume_delete(logged_in: Cli) -> None:
    # Given a schedule created from the command line
    made = logged_in(
        "schedule", "create", "nightly", "--type", "Fibonacci", "--data", '{"iterations": 5}',
        "--cron", "30 2 * * *", "--timezone", "Europe/Berlin", "--missed", "RUN_ALL",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    schedule_id = made.stdout.strip()

    # When it is listed, shown, paused, resumed and deleted
    listed = logged_in("schedule", "list")
    shown = logged_in("schedule", "show", schedule_id)
    paused = logged_in("schedule", "pause", schedule_id)
    listed_paused = logged_in("schedule", "list", "--json")
    resumed = logged_in("schedule", "resume", schedule_id)
    deleted = logged_in("schedule", "delete", schedule_id)
    gone = logged_in("schedule", "show", schedule_id)

    # Then each says what happened
    header, row = listed.stdout.splitlines()
    assert header.split()[:4] == ["ID", "NAME", "TYPE", "WHEN"]
    assert row.startswith(schedule_id) and "cron 30 2 * * * Europe/Berlin" in row
    assert "active" in row
    record = json.loads(shown.stdout)
    assert (record["name"], record["missedRuns"], record["data"]) == (
        "nightly",
        "RUN_ALL",
        [{"iterations": 5}],
    )
    assert paused.stdout.strip() == f"{schedule_id} paused"
    assert json.loads(listed_paused.stdout)[0]["paused"] is True
    assert resumed.stdout.strip() == f"{schedule_id} active"
    assert deleted.stdout.strip() == f"deleted {schedule_id}"
    assert gone.returncode == 1
    assert "no schedule" in gone.stderr and schedule_id in gone.stderr
    assert logged_in("schedule", "list").stdout.strip() == "no schedules"


def test_bad_input_is_one_line_naming_what_is_wrong(logged_in: Cli) -> None:
    def create(*extra: str) -> tuple[int, str]:
        result = logged_in("schedule", "create", "x", "--type", "Fibonacci", *extra)
        return result.returncode, result.stderr

    bad_zone = create("--data", "{}", "--cron", "0 * * * *", "--timezone", "Nowhere/Land")
    bad_item = create("--data", '{"iterations": "ten"}', "--every", "60")
    bad_json = create("--data", "{oops", "--every", "60")
    both = create("--data", "{}", "--every", "60", "--cron", "* * * * *")

    assert bad_zone[0] == 1 and "unknown time zone 'Nowhere/Land'" in bad_zone[1]
    assert bad_item[0] == 1 and "item 0 of Fibonacci: field 'iterations'" in bad_item[1]
    assert bad_json[0] == 1 and "--data: the value is not valid JSON" in bad_json[1]
    assert both[0] == 2 and "not allowed with argument" in both[1]  # argparse's usage error
    for _code, stderr in (bad_zone, bad_item, bad_json):
        assert len(stderr.strip().splitlines()) == 1
    assert logged_in("schedule", "list").stdout.strip() == "no schedules"
