"""The client against a real ``workq up`` process: the main path, the docs' examples, a stop."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import workq
from tests.client.conftest import fibonacci
from tests.e2e.test_up_and_demo import Up

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOCS = {
    "README.md": "a@example.com",
    "docs/client.md": "me@example.com",
    "docs/schedules.md": "sched@example.com",
}
DOC_PASSWORD = "S3cret!pass"


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path / "data").start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.stop()


def test_the_main_path_then_workq_stops(up: Up) -> None:
    # Given a user of a running `workq up`
    with workq.Client(up.jobs_url, up.auth_url) as client:
        client.create_user("alice@example.com", "S3cret!pass-alice")
        client.login("alice@example.com", "S3cret!pass-alice")

        # When a bulk job is submitted, with a key, and waited for
        items = [{"iterations": n} for n in range(150)]
        job = client.submit("Fibonacci", items, idempotency_key="up-1")
        assert client.submit("Fibonacci", items, idempotency_key="up-1").id == job.id
        done = client.wait(job.id, timeout_s=120)

        # Then it completed and every result can be read back, a page at a time
        assert (done.status, done.completed, done.dead) == ("completed", 150, 0)
        results = [item.result["value"] for item in client.items(job.id, page_size=40)]
        assert results == [fibonacci(n) for n in range(150)]
        assert [j.id for j in client.jobs()] == [job.id]

        # When Workq stops
        assert up.stop() == 0

        # Then the same client says it cannot reach the jobs service
        with pytest.raises(workq.Unreachable, match=f"cannot reach {re.escape(up.jobs_url)}"):
            client.job(job.id)


def python_blocks(doc: str) -> list[str]:
    """The doc's Python examples of the client: its python blocks that import workq."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)
    return [block for block in blocks if re.search(r"^import workq$", block, re.M)]


def test_docs_have_python_examples() -> None:
    assert len(python_blocks("docs/client.md")) >= 5
    assert python_blocks("README.md")


def test_every_documented_example_runs_against_workq_up(up: Up, tmp_path: Path) -> None:
    # Given the users the examples log in as
    with workq.Client(up.jobs_url, up.auth_url) as client:
        for email in DOCS.values():
            client.create_user(email, DOC_PASSWORD)
    env = {**os.environ, "WORKQ_PASSWORD": DOC_PASSWORD}

    # When each example runs as a script, pointed at this `workq up`
    for doc in DOCS:
        for n, block in enumerate(python_blocks(doc)):
            script = block.replace("127.0.0.1:3000/", f"127.0.0.1:{up.ports['auth']}/").replace(
                "127.0.0.1:3001/", f"127.0.0.1:{up.ports['jobs']}/"
            )
            result = subprocess.run(
                [sys.executable, "-c", script],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                timeout=120,
                check=False,
            )
            # Then it succeeds
            assert result.returncode == 0, f"{doc} python block {n}:\n{script}\n{result.stderr}"
