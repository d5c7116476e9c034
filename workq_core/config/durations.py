"""Durations as people write them (``30d``, ``12h``, ``90m``, ``45s``), in milliseconds."""

from __future__ import annotations

import re

from workq_core.errors import ConfigError

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")


def parse_duration_ms(text: str, where: str) -> int:
    """``"30d"`` is 2,592,000,000; a bare number is seconds; ``"0"`` is 0.

    A value that is not a number with one of the units ms, s, m, h, d, w is a
    ConfigError naming ``where`` (the setting or flag it came from).
    """
    match = _DURATION.match(text)
    if match is None:
        raise ConfigError(
            f"{where}: expected a duration such as 30d, 12h, 90m or 45s, got {text!r}"
        )
    number, unit = match.groups()
    return int(float(number) * _UNITS_MS[unit or "s"])
