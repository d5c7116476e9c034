""".pre-commit-config.yaml: local hooks only, running commands this environment has, documented.

Hook repositories cannot be fetched here, so every hook must be a ``repo:
local`` hook of ``language: system``; and a hook whose command is missing
would fail every commit, so the commands must exist and do what they claim.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".pre-commit-config.yaml"


def hooks() -> list[dict]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def command_path(name: str) -> str | None:
    """Where ``name`` is found: on PATH, or beside this interpreter (an unactivated venv)."""
    return shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))


def test_every_hook_is_local_and_fetches_nothing():
    # Given the pre-commit configuration
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))

    # Then every repo is local, every hook runs a system command, none installs anything
    assert config["repos"], "no hooks configured"
    assert [repo["repo"] for repo in config["repos"]] == ["local"] * len(config["repos"])
    for hook in hooks():
        assert hook["language"] == "system", hook["id"]
        assert "additional_dependencies" not in hook, hook["id"]


def test_the_hooks_are_ruff_check_fix_then_ruff_format_on_python_files():
    entries = [shlex.split(hook["entry"]) for hook in hooks()]
    assert len(entries) == 2
    assert entries[0][:3] == ["ruff", "check", "--fix"]
    assert entries[1][:2] == ["ruff", "format"]
    for hook in hooks():
        assert "python" in hook["types_or"], hook["id"]
        assert "--force-exclude" in hook["entry"], "generated code must stay excluded"


@pytest.mark.parametrize("hook", hooks(), ids=lambda hook: hook["id"])
def test_each_hook_command_exists_here(hook):
    command = shlex.split(hook["entry"])[0]
    assert command_path(command), f"{hook['id']}: {command!r} is not installed"


def test_the_hooks_fix_and_format_a_staged_file():
    # Given a Python file with an unused import and unformatted code, outside this
    # checkout (under tox, tmp_path lies in .tox, which ruff's --force-exclude skips)
    with tempfile.TemporaryDirectory() as scratch:
        check_hooks_fix(Path(scratch))


def check_hooks_fix(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("import os\nx=1\n", encoding="utf-8")

    # When each hook's command runs on it, as pre-commit runs them (file names appended)
    for hook in hooks():
        words = shlex.split(hook["entry"])
        words[0] = command_path(words[0]) or words[0]
        result = subprocess.run(
            [*words, str(source)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "RUFF_NO_CACHE": "true"},
        )
        assert result.returncode == 0, (hook["id"], result.stdout, result.stderr)

    # Then the file is fixed and formatted
    assert source.read_text(encoding="utf-8") == "x = 1\n"


def test_readme_documents_the_hooks_in_its_contributing_section():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Contributing\n", 1)[1].split("\n## ", 1)[0]
    for text in ("pip install pre-commit && pre-commit install", "ruff check --fix", "`tox`"):
        assert text in section
