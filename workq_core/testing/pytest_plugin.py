"""pytest fixtures around the harness, for conftests that name this module in ``pytest_plugins``."""

# Not a pytest11 entry point on purpose: installing workq-server must not
# add fixtures (and their imports) to every test session on the machine.

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from workq_core.testing.harness import Harness


@pytest.fixture
def make_workq_harness(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """Start harnesses, each in its own directory under ``tmp_path``; closed after the test.

    ``make_workq_harness(plugins=..., entry_points=..., settings=..., delay_scale=...)``
    takes the arguments of :class:`workq_core.testing.Harness`.
    """
    started: list[Harness] = []

    def make(**options: Any) -> Harness:
        harness = Harness(tmp_path / f"workq-{len(started)}", **options)
        started.append(harness)
        return harness.start()

    yield make
    for harness in reversed(started):
        harness.close()


@pytest.fixture
def workq_harness(make_workq_harness: Callable[..., Harness]) -> Harness:
    """A harness with the installed plugins (yours too, once ``pip install -e .``) and defaults."""
    return make_workq_harness()
