"""When a schedule runs: a cron expression in an IANA time zone, or a fixed interval.

Cron expressions are the five standard fields, evaluated by ``cronsim`` on
the wall clock of the zone, with Debian cron's rules at DST changes: a
fixed time that falls in the spring-forward gap runs at the first moment
after it, and a wall-clock time that happens twice at fall-back runs once
(the first time). An interval is elapsed time, untouched by DST. All
times here are integer milliseconds since the epoch, as in the database.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from cronsim import CronSim, CronSimError

from workq_core.errors import InvalidPayload

MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 366 * 86_400
MAX_ZONE_LENGTH = 64
MAX_CRON_LENGTH = 200  # the column's width
_UTC = dt.UTC


@dataclass(frozen=True)
class Cadence:
    """Exactly one of ``cron`` (with ``timezone``) or ``interval_ms``."""

    cron: str | None = None
    timezone: str = "UTC"
    interval_ms: int | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def next_after(self, after_ms: int) -> int:
        """The first run strictly after ``after_ms``."""
        if self.interval_ms is not None:
            return after_ms + self.interval_ms
        assert self.cron is not None
        for moment in CronSim(self.cron, _local(after_ms, self.zone)):
            at = _ms(moment)
            if at > after_ms:  # wall-clock iteration can step back across a DST gap
                return at
        raise AssertionError("unreachable: CronSim iterates without end")

    def due(self, next_run_at: int, now: int, limit: int) -> tuple[list[int], int]:
        """``(runs, next)``: the latest ``limit`` runs in ``[next_run_at, now]``, ascending,
        and the first run after ``now``. ``next_run_at`` is a run time of this cadence."""
        if next_run_at > now:
            return [], next_run_at
        if self.interval_ms is not None:
            step = self.interval_ms
            last = next_run_at + (now - next_run_at) // step * step
            first = max(next_run_at, last - (limit - 1) * step)
            return list(range(first, last + 1, step)), last + step
        return self._recent_cron_runs(next_run_at, now, limit), self.next_after(now)

    def _recent_cron_runs(self, start: int, now: int, limit: int) -> list[int]:
        """Walk back from ``now``: a long outage costs ``limit`` steps, not one per missed run."""
        assert self.cron is not None
        found: list[int] = []
        # The microsecond makes cronsim consider ``now`` itself (its reverse walk
        # drops sub-second parts as its first step).
        origin = _local(now, self.zone).replace(microsecond=1)
        for moment in CronSim(self.cron, origin, reverse=True):
            at = _ms(moment)
            if at < start or len(found) >= limit:
                break
            if at <= now and at not in found:
                found.append(at)
        if start not in found and len(found) < limit and start <= now:
            found.append(start)  # the stored next run, even if DST moved its wall time
        return sorted(found)


def parse_cadence(
    cron: str | None, timezone: str | None, interval_s: int | None, *, prefix: str = ""
) -> Cadence:
    """Check the fields of a schedule's timing; InvalidPayload names the field at fault."""
    if (cron is None) == (interval_s is None):
        raise InvalidPayload(
            "give exactly one of cron (with timeZone) or intervalSeconds",
            field=prefix + ("cron" if cron is not None else "intervalSeconds"),
        )
    if interval_s is not None:
        if timezone is not None:
            raise InvalidPayload(
                "timeZone applies to cron schedules only", field=prefix + "timeZone"
            )
        if not isinstance(interval_s, int) or not MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S:
            raise InvalidPayload(
                f"intervalSeconds must be between {MIN_INTERVAL_S} and {MAX_INTERVAL_S}"
                f" (366 days), got {interval_s!r}",
                field=prefix + "intervalSeconds",
            )
        return Cadence(interval_ms=interval_s * 1000)
    zone = check_zone("UTC" if timezone is None else timezone, field=prefix + "timeZone")
    assert cron is not None
    return Cadence(cron=check_cron(cron, zone, field=prefix + "cron"), timezone=zone)


def check_zone(name: str, *, field: str) -> str:
    """An IANA zone name ``zoneinfo`` knows (tzdata ships them where the system has none)."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_ZONE_LENGTH:
        raise InvalidPayload(f"unknown time zone {name!r}", field=field)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidPayload(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'",
            field=field,
        ) from None
    return name


def check_cron(expression: str, zone: str, *, field: str) -> str:
    """Five fields (minute hour day-of-month month day-of-week) that can ever match."""
    text = " ".join(str(expression).split())
    if len(text) > MAX_CRON_LENGTH:
        raise InvalidPayload(
            f"cron expression must be at most {MAX_CRON_LENGTH} characters", field=field
        )
    if len(text.split()) != 5:
        raise InvalidPayload(
            f"cron expression {expression!r} must have 5 fields"
            " (minute hour day-of-month month day-of-week)",
            field=field,
        )
    try:
        next(CronSim(text, dt.datetime.now(_UTC)))
    except CronSimError as exc:
        raise InvalidPayload(f"cron expression {expression!r}: {exc}", field=field) from None
    except StopIteration:
        raise InvalidPayload(
            f"cron expression {expression!r} never matches a date", field=field
        ) from None
    return text


def _local(at_ms: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(at_ms / 1000, tz=_UTC).astimezone(zone)


def _ms(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)
