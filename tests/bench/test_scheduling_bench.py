"""``bench.scheduling`` end to end at a tiny size: its services start, runs fire, it counts them.

On SQLite only (the PostgreSQL path differs only in the database URL); the
figures are not asserted, only that every run of the grid fired once.
"""

from __future__ import annotations

import argparse

import pytest

from bench.scheduling import measure, with_tick
from bench.systems.workq_sys import WorkqSystem

pytestmark = [pytest.mark.bench, pytest.mark.timeout(120)]


def test_a_tiny_scheduling_run_fires_every_run_once() -> None:
    args = argparse.Namespace(schedules=2, interval=1, seconds=2.5)

    result = measure(with_tick(WorkqSystem, 0.2), args)

    assert result["system"] == "workq"
    assert result["runs"] >= 2  # two schedules, one run each at least
    assert (result["missing"], result["doubled"]) == (0, 0)
    assert 0 <= result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
