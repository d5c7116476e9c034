"""A third-party plugin distribution, pip-installed into a fresh virtualenv, is discovered."""

from __future__ import annotations

import json
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

DISTS = Path(__file__).resolve().parents[1] / "plugin_dists"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A new virtualenv that sees this environment's packages (Workq and its dependencies).

    Its own site-packages stays separate, so what pip installs or uninstalls
    there touches nothing else.
    """
    root = tmp_path_factory.mktemp("venv")
    venv.create(root, with_pip=False)  # pip and setuptools come from this environment
    site = next((root / "lib").glob("python3*/site-packages"))
    parent = sysconfig.get_paths()["purelib"]
    (site / "zz_workq_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return root


def run(venv_root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv_root / "bin" / "python"), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=180,
    )


def pip(venv_root: Path, *args: str) -> None:
    run(venv_root, "-m", "pip", "--disable-pip-version-check", "--no-input", *args)


def workq(venv_root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(venv_root, "-m", "workq_entrypoints", *args, check=check)


PROBE = """
import json
from workq_core.runtime import bootstrap
runtime = bootstrap()
print(json.dumps({
    "job_types": runtime.catalog.job_types.names(),
    "dedup_store": type(runtime.dedup_store()).__name__,
}))
"""


def probe(venv_root: Path, **env: str) -> dict:
    import os

    result = subprocess.run(
        [str(venv_root / "bin" / "python"), "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
        timeout=60,
    )
    return json.loads(result.stdout)


def test_installed_plugin_is_found_then_gone_after_uninstall(fresh_venv):
    # Given the example distribution installed with pip
    pip(
        fresh_venv,
        "install",
        "--no-deps",
        "--no-build-isolation",
        str(DISTS / "workq-example-plugin"),
    )

    # When listing plugins and looking the job type up through the core
    listed = {p["name"]: p for p in json.loads(workq(fresh_venv, "plugins", "--json").stdout)}
    found = probe(fresh_venv)

    # Then the plugin shows its distribution, hooks and registrations beside the shipped ones
    assert listed["example"]["distribution"] == "workq-example-plugin"
    assert listed["example"]["version"] == "1.2.3"
    assert listed["example"]["registered"] == ["job type Echo", "dedup store example-dict"]
    assert listed["fibonacci"]["distribution"] == "workq-server"
    assert "Echo" in found["job_types"] and "Fibonacci" in found["job_types"]

    # And the dedup store swaps by configuration alone
    swapped = probe(fresh_venv, WORKQ_EXECUTOR_DEDUP_STORE="example-dict")
    assert swapped["dedup_store"] == "DictDedupStore"
    assert probe(fresh_venv)["dedup_store"] == "MemoryDedupStore"

    # When it is uninstalled, it is gone
    pip(fresh_venv, "uninstall", "--yes", "workq-example-plugin")
    listed_after = {p["name"] for p in json.loads(workq(fresh_venv, "plugins", "--json").stdout)}
    assert "example" not in listed_after
    assert "Echo" not in probe(fresh_venv)["job_types"]


def test_a_plugin_that_fails_to_import_is_one_clear_error(fresh_venv):
    pip(
        fresh_venv,
        "install",
        "--no-deps",
        "--no-build-isolation",
        str(DISTS / "workq-broken-plugin"),
    )
    try:
        result = workq(fresh_venv, "plugins", check=False)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "workq: error: plugin 'broken' (workq-broken-plugin, workq_broken) failed to import: "
            "ModuleNotFoundError: No module named 'workq_no_such_dependency'"
        ]
        # The plugin can be disabled by name, and then everything else works
        ok = workq(fresh_venv, "plugins", "--disable-plugin", "broken", "--json")
        assert "broken" not in {p["name"] for p in json.loads(ok.stdout)}
    finally:
        pip(fresh_venv, "uninstall", "--yes", "workq-broken-plugin")
