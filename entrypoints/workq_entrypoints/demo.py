"""What ``workq demo`` does: a demo user, a bulk Fibonacci job, live progress, a summary."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import workq
from workq_entrypoints.progress import follow, render_job


@dataclass(frozen=True)
class DemoResult:
    """What the summary reports."""

    job_id: str
    status: str
    size: int
    completed: int
    failed: int
    dead: int
    seconds: float
    sample_index: int
    sample_value: str

    @property
    def throughput(self) -> float:
        return self.size / self.seconds if self.seconds > 0 else float("inf")


def is_serving(url: str) -> bool:
    """Whether a Workq GraphQL endpoint answers at ``url``."""
    with workq.Client(url, timeout_s=2) as probe:
        try:
            probe.execute("{ __typename }")
        except workq.WorkqClientError:
            return False
    return True


def demo_login(client: workq.Client, data_dir: Path) -> None:
    """Log in as the demo user, creating it (and its stored password) the first time."""
    path = data_dir / "demo_credentials.json"
    if path.exists():
        saved = json.loads(path.read_text())
        try:
            client.login(saved["email"], saved["password"])
            return
        except workq.Unauthenticated:
            pass  # a stack with another database: make a demo user there
    email = "demo@workq.local" if not path.exists() else f"demo+{secrets.token_hex(4)}@workq.local"
    password = secrets.token_urlsafe(18)
    client.create_user(email, password)
    client.login(email, password)
    _write_private(path, json.dumps({"email": email, "password": password}))


def run_demo(
    client: workq.Client, items: int, max_iterations: int, out: TextIO = sys.stdout
) -> DemoResult:
    """Submit one bulk job and follow it to the end, drawing progress on ``out``."""
    data = [{"iterations": i % (max_iterations + 1)} for i in range(items)]
    started = time.monotonic()
    job = client.submit("Fibonacci", data)
    print(f"Submitted job {job.id}: {items} Fibonacci items.", file=out, flush=True)
    tty = out.isatty()

    def draw(record: Mapping[str, Any]) -> None:
        if tty:
            print(f"\r{render_job(record)}", end="", file=out, flush=True)

    final = follow(client, job.id, draw, 0.2)  # pushed by the service as items finish
    seconds = time.monotonic() - started
    print(("\n" if tty else "") + render_job(final), file=out, flush=True)
    job = client.job(job.id)
    index = min(10, items - 1)
    sample = next(itertools.islice(client.items(job.id, page_size=index + 1), index, None))
    value = (sample.result or {}).get("value", "?")
    return DemoResult(
        job_id=job.id,
        status=job.status,
        size=job.size,
        completed=job.completed,
        failed=job.failed,
        dead=job.dead,
        seconds=seconds,
        sample_index=index % (max_iterations + 1),
        sample_value=str(value),
    )


def summary(result: DemoResult) -> str:
    value = result.sample_value
    if len(value) > 40:
        value = f"{value[:18]}...{value[-18:]} ({len(value)} digits)"
    return (
        f"Job {result.job_id} {result.status}.\n"
        f"  items:      {result.size} ({result.completed} done, {result.failed} failed, "
        f"{result.dead} dead)\n"
        f"  time:       {result.seconds:.2f} s ({result.throughput:,.0f} items/s end to end)\n"
        f"  sample:     Fibonacci({result.sample_index}) = {value}"
    )


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def urls(settings: Any) -> tuple[str, str]:
    """The auth and jobs GraphQL URLs the local stack serves (or would)."""
    return (
        f"http://{settings.auth.host}:{settings.auth.port}/graphql",
        f"http://{settings.jobs.host}:{settings.jobs.port}/graphql",
    )
