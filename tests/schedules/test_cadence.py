"""Cron and interval timing, pure: DST changes, catch-up windows, and bad input named."""

from __future__ import annotations

import datetime as dt

import pytest

from workq_core.errors import InvalidPayload
from workq_core.schedules.cadence import Cadence, parse_cadence


def ms(text: str) -> int:
    return round(dt.datetime.fromisoformat(text).timestamp() * 1000)


def local(at: int, zone: str = "Europe/Berlin") -> str:
    from zoneinfo import ZoneInfo

    return dt.datetime.fromtimestamp(at / 1000, tz=ZoneInfo(zone)).isoformat()


def runs(cadence: Cadence, start: str, count: int, zone: str = "Europe/Berlin") -> list[str]:
    at, out = ms(start), []
    for _ in range(count):
        at = cadence.next_after(at)
        out.append(local(at, zone))
    return out


def test_a_fixed_time_in_the_spring_forward_gap_runs_at_the_end_of_the_gap():
    # Europe/Berlin skips 02:00-03:00 on 2026-03-29.
    daily = parse_cadence("30 2 * * *", "Europe/Berlin", None)
    assert runs(daily, "2026-03-27T12:00:00+00:00", 3) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


def test_a_fixed_time_that_happens_twice_at_fall_back_runs_once():
    # Europe/Berlin has 02:00-03:00 twice on 2026-10-25.
    daily = parse_cadence("30 2 * * *", "Europe/Berlin", None)
    assert runs(daily, "2026-10-23T12:00:00+00:00", 3) == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_a_wildcard_hour_runs_at_every_real_instant_across_both_changes():
    half_hourly = parse_cadence("*/30 * * * *", "Europe/Berlin", None)
    assert runs(half_hourly, "2026-03-29T01:10:00+01:00", 3) == [
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:00 and 02:30 do not exist
        "2026-03-29T03:30:00+02:00",
    ]
    assert runs(half_hourly, "2026-10-25T02:10:00+02:00", 4) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",  # the repeated hour, second time
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]


def test_a_cron_day_follows_the_zone_not_utc():
    nine_am_tokyo = parse_cadence("0 9 * * MON-FRI", "Asia/Tokyo", None)
    assert runs(nine_am_tokyo, "2026-06-05T12:00:00+09:00", 2, "Asia/Tokyo") == [
        "2026-06-08T09:00:00+09:00",  # Friday noon -> Monday 09:00
        "2026-06-09T09:00:00+09:00",
    ]


def test_an_interval_is_elapsed_time_even_across_dst():
    hourly = parse_cadence(None, None, 3600)
    start = ms("2026-03-29T01:30:00+01:00")
    assert hourly.next_after(start) - start == 3_600_000
    assert local(hourly.next_after(start)) == "2026-03-29T03:30:00+02:00"


def test_due_lists_the_newest_runs_of_a_backlog_and_the_next_one():
    every_10s = Cadence(interval_ms=10_000)
    due, following = every_10s.due(1_000, 95_000, limit=3)
    assert due == [71_000, 81_000, 91_000]
    assert following == 101_000
    assert every_10s.due(1_000, 500, limit=3) == ([], 1_000)


def test_due_on_cron_walks_back_only_as_far_as_the_limit():
    minutely = parse_cadence("* * * * *", "UTC", None)
    start = ms("2020-01-01T00:00:00+00:00")  # six years of missed minutes
    now = ms("2026-06-01T12:00:30+00:00")
    due, following = minutely.due(start, now, limit=2)
    assert due == [ms("2026-06-01T11:59:00+00:00"), ms("2026-06-01T12:00:00+00:00")]
    assert following == ms("2026-06-01T12:01:00+00:00")
    exact, _ = minutely.due(ms("2026-06-01T12:00:00+00:00"), ms("2026-06-01T12:00:00+00:00"), 5)
    assert exact == [ms("2026-06-01T12:00:00+00:00")]


@pytest.mark.parametrize(
    ("cron", "zone", "interval", "field", "words"),
    [
        ("61 * * * *", "UTC", None, "cron", "Bad minute"),
        ("0 25 * * *", "UTC", None, "cron", "Bad hour"),
        ("0 0 * * FUNDAY", "UTC", None, "cron", "Bad day-of-week"),
        ("* * *", "UTC", None, "cron", "5 fields"),
        ("0 0 0 * * *", "UTC", None, "cron", "5 fields"),
        ("0 0 30 2 *", "UTC", None, "cron", "day-of-month"),
        ("0,1" + ",0" * 200 + " * * * *", "UTC", None, "cron", "at most 200 characters"),
        ("0 0 * * *", "Mars/Olympus", None, "timeZone", "unknown time zone"),
        ("0 0 * * *", "", None, "timeZone", "unknown time zone"),
        ("0 0 * * *", "../../etc/passwd", None, "timeZone", "unknown time zone"),
        (None, None, 0, "intervalSeconds", "between 1 and"),
        (None, None, 400 * 86_400, "intervalSeconds", "between 1 and"),
        (None, "UTC", 60, "timeZone", "cron schedules only"),
        ("* * * * *", None, 60, "cron", "exactly one"),
        (None, None, None, "intervalSeconds", "exactly one"),
    ],
)
def test_bad_timing_names_the_field(cron, zone, interval, field, words):
    with pytest.raises(InvalidPayload) as caught:
        parse_cadence(cron, zone, interval)
    assert caught.value.field == field
    assert words in caught.value.message
