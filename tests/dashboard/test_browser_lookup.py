"""Finding the Chromium the browser tests drive: named, on PATH, or none (then they fail)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import chromium_path


def test_the_named_executable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    browser = tmp_path / "my-chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("WORKQ_TEST_CHROMIUM", str(browser))

    assert chromium_path() == str(browser)


def test_a_named_file_that_cannot_run_is_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WORKQ_TEST_CHROMIUM", str(tmp_path / "missing"))

    assert chromium_path() is None


def test_without_a_name_it_is_looked_up_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WORKQ_TEST_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert chromium_path() is None  # nothing there: the browser fixture then fails

    (tmp_path / "chromium").write_text("#!/bin/sh\n")
    (tmp_path / "chromium").chmod(0o755)
    assert chromium_path() == str(tmp_path / "chromium")
