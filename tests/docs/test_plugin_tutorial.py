"""docs/plugins.md stays true: the tutorial runs step by step from an empty folder to `workq up`."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import sysconfig
import urllib.request
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_up_and_demo import Up, workq_env

ROOT = Path(__file__).resolve().parents[2]
PLUGINS_MD = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
# Every step a reader takes; the test fails if the tutorial stops showing one.
EXPECTED_COMMANDS = [
    "workq new-plugin",
    "pip install -e .",
    "pytest",
    "workq plugins",
    "workq up",
    "workq login",
    "workq submit",
    "workq watch",
]
BLOCK = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```$", re.M | re.S)
# The test's virtualenv has no network and only this environment's packages:
# pip installs offline, without resolving dependencies (they are all here).
PIP_SHIM = """#!/bin/sh
if [ "$1" = install ]; then shift; set -- install --no-deps --no-build-isolation --no-index "$@"; fi
exec "{python}" -m pip --disable-pip-version-check --quiet "$@"
"""
PYTHON_SHIM = """#!{python}
import sys
from {module} import {function}
sys.exit({function}())
"""


@dataclass(frozen=True)
class Block:
    """One fenced block of the tutorial: ``lang``, its ``file=`` (if any) and its text."""

    lang: str
    file: str | None
    body: str


def section(title: str) -> str:
    return PLUGINS_MD.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


def blocks(text: str) -> list[Block]:
    found = []
    for match in BLOCK.finditer(text):
        attrs = dict(re.findall(r"(\w+)=(\S+)", match[2]))
        found.append(Block(match[1], attrs.get("file"), match[3]))
    return found


TUTORIAL = blocks(section("Tutorial: a job type from an empty folder"))


def commands(block: Block) -> list[str]:
    """The block's logical lines, continuations joined."""
    return [line.strip() for line in block.body.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_tutorial_shows_every_step() -> None:
    shown = [line for block in TUTORIAL if block.lang == "sh" for line in commands(block)]
    for expected in EXPECTED_COMMANDS:
        assert any(expected in line for line in shown), f"the tutorial lost `{expected}`"
    assert [b.file for b in TUTORIAL if b.file] == [
        "workq_word_count/__init__.py",
        "tests/test_workq_word_count.py",
    ]


def test_the_testing_reference_example_passes(tmp_path: Path) -> None:
    # Given the conftest line and the example test of "Testing a plugin", in an empty project
    python = [b.body for b in blocks(section("Testing a plugin")) if b.lang == "python"]
    conftest, example = python
    assert conftest.strip() == 'pytest_plugins = ["workq_core.testing.pytest_plugin"]'
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_example.py").write_text(example)

    # When pytest runs there, as an author would run it
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then the example passes
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def latest_job_results(jobs_url: str, token: str) -> list[object]:
    """The items' results of the user's newest job, read over GraphQL as the tutorial says."""
    body = {"query": "query { myJobs(first: 1) { nodes { items { result } } } }"}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    request = urllib.request.Request(jobs_url, json.dumps(body).encode(), headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http://127.0.0.1
        answer = json.load(response)
    [job] = answer["data"]["myJobs"]["nodes"]
    return [item["result"] for item in job["items"]]


def clean_env() -> dict[str, str]:
    env = workq_env(Path())
    return {k: v for k, v in env.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV"))}


def tutorial_venv(root: Path) -> Path:
    """A fresh virtualenv seeing this environment's packages, with the commands a reader has.

    ``pip``, ``pytest`` and ``workq`` in its bin run with its own python,
    so what the tutorial installs goes into it and nowhere else.
    """
    venv.create(root, with_pip=False)
    site = next((root / "lib").glob("python3*/site-packages"))
    parent = sysconfig.get_paths()["purelib"]
    (site / "zz_workq_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    python = str(root / "bin" / "python")
    shims = {
        "pip": PIP_SHIM.format(python=python),
        "pytest": PYTHON_SHIM.format(python=python, module="pytest", function="console_main"),
        "workq": PYTHON_SHIM.format(python=python, module="workq_entrypoints.cli", function="main"),
    }
    for name, text in shims.items():
        path = root / "bin" / name
        path.write_text(text)
        path.chmod(0o755)
    return root / "bin"


class Reader:
    """Follows the tutorial: runs its shell blocks in one working directory, writes its files."""

    def __init__(self, home: Path, bin_dir: Path) -> None:
        self.cwd = home
        self.up = Up(home / "workq-data")
        self.env = {
            **clean_env(),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "WORKQ_CREDENTIALS": str(home / "credentials.json"),
            "WORKQ_AUTH_URL": self.up.auth_url,
            "WORKQ_JOBS_URL": self.up.jobs_url,
        }
        self.process: subprocess.Popen[str] | None = None

    def run(self, block: Block) -> str:
        """Run one shell block in bash (-e: any failing command fails it); returns its stdout."""
        script = block.body.replace("127.0.0.1:3000/", f"127.0.0.1:{self.up.ports['auth']}/")
        script = script.replace("127.0.0.1:3001/", f"127.0.0.1:{self.up.ports['jobs']}/")
        cwd_file = self.cwd / ".tutorial-cwd"
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", f"{script}\npwd > {shlex.quote(str(cwd_file))}"],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{block.body}\n{result.stdout}\n{result.stderr}"
        self.cwd = Path(cwd_file.read_text().strip())
        cwd_file.unlink()
        return result.stdout

    def write(self, block: Block) -> None:
        assert block.file is not None
        path = self.cwd / block.file
        assert path.is_file(), f"the tutorial edits {block.file}, which the template did not write"
        path.write_text(block.body)

    def start_up(self) -> None:
        """`workq up`, as the tutorial's second terminal runs it, on free ports and a temp dir."""
        self.process = subprocess.Popen(
            ["workq", "up", *self.up.args()],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        while (line := self.process.stdout.readline()).strip() != "Press Ctrl-C to stop.":
            assert line, f"workq up exited: {self.process.communicate()[1][-3000:]}"

    def stop_up(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        self.process.communicate()
        return code


@pytest.mark.e2e
def test_the_tutorial_runs_from_an_empty_folder_to_a_completed_item(tmp_path: Path) -> None:
    # Given an empty folder and a virtualenv with Workq (and nothing else) in it
    home = tmp_path / "home"
    home.mkdir()
    reader = Reader(home, tutorial_venv(tmp_path / "venv"))

    # When the reader follows every step of the tutorial, in order
    outputs: list[tuple[Block, str]] = []
    results: list[object] = []
    try:
        for block in TUTORIAL:
            if block.file:
                reader.write(block)
            elif block.lang == "sh" and commands(block) == ["workq up"]:
                reader.start_up()
            elif block.lang == "sh":
                outputs.append((block, reader.run(block)))
            elif block.lang == "text":
                # Then each output the tutorial shows is what the step before printed
                shown, out = block.body.rstrip("\n"), outputs[-1][1]
                assert shown in out, f"the tutorial shows:\n{shown}\nbut it printed:\n{out}"
        token = json.loads((home / "credentials.json").read_text())["token"]
        results = latest_job_results(reader.up.jobs_url, token)
    finally:
        if reader.process is not None:
            assert reader.stop_up() == 0

    # Then the tutorial's three tests passed, the item completed (`workq watch`, run with
    # bash -e, exits 0 only then), and its result is the one the tutorial names
    printed = {line: out for block, out in outputs for line in commands(block)}
    assert "3 passed" in printed["pytest"]
    named = re.search(r"The item's result, `(.*?)`,", PLUGINS_MD)
    assert named and results == [json.loads(named[1])]
