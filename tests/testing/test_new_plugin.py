"""``workq new-plugin`` writes a plugin distribution that works, and never overwrites anything."""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workq_entrypoints.scaffold import InvalidName, PluginNames

GENERATED = [
    "pyproject.toml",
    "setup.cfg",
    "README.md",
    ".gitignore",
    "workq_word_count/__init__.py",
    "tests/conftest.py",
    "tests/test_workq_word_count.py",
]
# The rules of this repository's ruff.toml, for a project where workq_core is third-party.
RUFF_RULES = ["--select", "E,F,W,I,B,UP,S,SIM,RUF", "--ignore", "S101,RUF012"]


def workq(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKQ_")}
    return subprocess.run(
        [sys.executable, "-m", "workq_entrypoints", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_it_writes_a_distribution_whose_job_type_runs_in_the_executor(tmp_path, make_workq_harness):
    # Given an empty folder
    # When a new plugin is made there
    result = workq("new-plugin", "word-count", cwd=tmp_path)

    # Then it says what it wrote, and wrote exactly that
    assert result.returncode == 0, result.stderr
    root = tmp_path / "workq-word-count"
    assert result.stdout.splitlines() == [
        "Created workq-word-count: plugin 'word-count' (workq-word-count) with job type WordCount.",
        *(f"  workq-word-count/{path}" for path in GENERATED),
        "Next: cd workq-word-count && pip install -e . && pytest",
    ]
    assert files_under(root) == sorted(GENERATED)

    # And setup.cfg publishes the package as the plugin `word-count`, needing Workq
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    assert cfg["metadata"]["name"] == "workq-word-count"
    assert cfg["options.entry_points"]["workq"].strip() == "word-count = workq_word_count"
    assert "workq-server>=" in cfg["options"]["install_requires"]
    conftest = (root / "tests" / "conftest.py").read_text()
    assert 'pytest_plugins = ["workq_core.testing.pytest_plugin"]' in conftest

    # And its job type runs through the executor as its generated test expects
    spec = importlib.util.spec_from_file_location(
        "workq_word_count", root / "workq_word_count" / "__init__.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    harness = make_workq_harness(plugins={"word-count": module}, entry_points=False)
    [item] = harness.run("WordCount", {"text": "hello"}).items
    assert (item.status, item.result) == ("completed", {"text": "hello"})


def test_the_generated_code_passes_this_repositorys_lint_rules(tmp_path):
    assert workq("new-plugin", "lint-me", cwd=tmp_path).returncode == 0
    root = tmp_path / "workq-lint-me"
    base = [sys.executable, "-m", "ruff"]
    checked = subprocess.run(
        [*base, "check", "--isolated", *RUFF_RULES, "--line-length", "100", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    formatted = subprocess.run(
        [*base, "format", "--isolated", "--line-length", "100", "--check", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout


def test_dir_may_name_a_new_or_an_empty_directory(tmp_path):
    # Given an empty directory
    empty = tmp_path / "here"
    empty.mkdir()

    # When plugins are made into it and into a path that does not exist yet
    into_empty = workq("new-plugin", "pdf_render", "--dir", "here", cwd=tmp_path)
    into_new = workq("new-plugin", "mailer", "--dir", "deep/down/mailer", cwd=tmp_path)

    # Then both are written there, with names derived from NAME
    assert into_empty.returncode == 0, into_empty.stderr
    assert into_new.returncode == 0, into_new.stderr
    assert (empty / "workq_pdf_render" / "__init__.py").is_file()
    assert 'name = "PdfRender"' in (empty / "workq_pdf_render" / "__init__.py").read_text()
    assert (tmp_path / "deep/down/mailer/tests/test_workq_mailer.py").is_file()


def test_an_existing_target_is_never_overwritten(tmp_path):
    # Given a target directory holding a file of the author's
    target = tmp_path / "workq-word-count"
    target.mkdir()
    (target / "setup.cfg").write_text("mine\n")

    # When a plugin is made there
    result = workq("new-plugin", "word-count", cwd=tmp_path)

    # Then it refuses, and nothing was written or changed
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "workq: error: workq-word-count exists and is not an empty directory; nothing was written"
    )
    assert files_under(target) == ["setup.cfg"]
    assert (target / "setup.cfg").read_text() == "mine\n"


def test_an_invalid_name_is_a_usage_error_saying_what_is_allowed(tmp_path):
    result = workq("new-plugin", "Word Count", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument NAME: invalid plugin name 'Word Count': use lowercase letters" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_name_of_an_installed_plugin_is_refused(tmp_path):
    result = workq("new-plugin", "fibonacci", cwd=tmp_path)
    assert result.returncode == 1
    assert "a plugin named 'fibonacci' is already installed by workq-server" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["Word", "9lives", "word--count", "word-", "_word", "workq-foo", "w" * 41, "wörd"]
)
def test_names_outside_the_rule_are_invalid(name):
    with pytest.raises(InvalidName, match="use lowercase letters and digits"):
        PluginNames.from_name(name)


def test_names_derive_from_each_other():
    names = PluginNames.from_name("pdf2text_v2")
    assert (names.distribution, names.package, names.job_type, names.job_class) == (
        "workq-pdf2text-v2",
        "workq_pdf2text_v2",
        "Pdf2textV2",
        "Pdf2textV2Job",
    )
