"""The ``workq`` command as a user runs it: version, plugins, config, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from workq_core import __version__

LEGACY_ENV = {"PORT", "JWT_SECRET", "JWT_EXPIRATION_MS", "DATABASE_URL", "PULSAR_SERVICE_URL"}


def workq(
    *args: str, env: dict[str, str] | None = None, cwd=None
) -> subprocess.CompletedProcess[str]:
    """``workq ARGS`` (in ``cwd``), with no Workq setting inherited from this environment."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("WORKQ_") and k not in LEGACY_ENV
    }
    return subprocess.run(
        [sys.executable, "-m", "workq_entrypoints", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        cwd=cwd,
        timeout=60,
    )


def test_version():
    result = workq("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"workq {__version__}"


def test_plugins_lists_shipped_plugins_with_their_distribution():
    result = workq("plugins")
    assert result.returncode == 0, result.stderr
    assert "fibonacci  [workq-server " in result.stdout
    assert "registered: job type Fibonacci" in result.stdout
    assert "memory  [workq-server " in result.stdout
    assert "dedup store memory" in result.stdout


def test_config_masks_secrets_and_names_sources(tmp_path):
    (tmp_path / "workq.toml").write_text("[executor]\nthreads = 3\n")
    result = workq(
        "config",
        "--json",
        "--set",
        "executor.processes=2",
        env={"DATABASE_URL": "postgresql://app:hunter22@db/workq", "WORKQ_JOBS_PORT": "4001"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = {row["key"]: row for row in json.loads(result.stdout)}
    assert rows["database.url"]["value"] == "********"
    assert "hunter22" not in result.stdout
    assert rows["database.url"]["source"] == "env DATABASE_URL"
    assert rows["executor.threads"] == {
        "key": "executor.threads",
        "value": 3,
        "source": "file workq.toml",
        "help": "threads per worker process (I/O-bound jobs)",
    }
    assert rows["executor.processes"]["source"] == "flag"
    assert rows["jobs.port"]["value"] == 4001


def test_a_bad_value_is_one_line_and_exit_code_2():
    result = workq("config", env={"WORKQ_EXECUTOR_THREADS": "lots"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "workq: error: executor.threads (from env WORKQ_EXECUTOR_THREADS): "
        "expected an integer, got 'lots'"
    )


def test_a_malformed_set_flag_is_a_clear_error():
    result = workq("config", "--set", "threads")
    assert result.returncode == 2
    assert "expected SECTION.KEY=VALUE" in result.stderr
