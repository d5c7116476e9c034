"""The contract between the harness and one system under test.

A system is one small module in ``bench/systems/`` with a class that
satisfies :class:`System`. The harness drives it like this, once per run
(one system, one job kind, one worker count, one repeat)::

    system = SomeSystem()
    system.setup(ctx)              # connect; purge ctx.queue (fresh per run)
    pids = system.start_workers(n) # spawn n worker processes, return root pids
    system.enqueue_bulk(warmup)    # harness waits for these in the sink
    system.enqueue_bulk(jobs)      # drain phase: enqueue rate, drain throughput
    system.enqueue_one(job) ...    # paced phase at a fixed rate: latency
    system.stop_workers()          # clean stop, called even after a failure
    system.teardown()              # delete what setup made; called even after a failure

Rules for an adapter (the Workq one, ``bench/systems/workq_sys.py`` with a
class ``WorkqSystem``, is written against exactly this):

- Worker side: for every job, call ``bench.workload.run_job(job.kind, job.id)``
  inside the worker process that executes it. That call does the work (no-op
  or Fibonacci(1000)) and appends ``(job_id, t_start, t_done)`` to the sink;
  the harness learns about completions only from there, never from the
  system. Worker processes must get ``ctx.worker_env()`` in their environment
  (it carries ``BENCH_SINK_DIR``, ``BENCH_QUEUE`` and ``PYTHONPATH``).
- ``start_workers(n)`` spawns the workers as subprocesses (use
  :class:`bench.procs.ProcessGroup`), returns the root pids (peak RSS is
  sampled over each pid's process tree) and may return before they are ready:
  the harness sends warm-up jobs and waits for them before measuring.
- ``enqueue_bulk`` is the fastest documented way to submit many jobs; it
  returns when the system has accepted them all (durably, where the system
  offers it). ``enqueue_one`` submits one job and returns when accepted.
- Use ``ctx.queue`` (unique per run) for every queue, topic or key name, so
  runs and concurrent users of the shared brokers never see each other.
- ``versions()`` returns ``{package: version}`` for the results file.
- Configure for at-least-once delivery where the system offers it, and
  otherwise as the system's own docs recommend for throughput; write down the
  choices and why in the module docstring.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.procs import REPO_ROOT
from bench.workload import SINK_ENV


@dataclass(frozen=True)
class Job:
    """One unit of work: ``kind`` is ``noop`` or ``fib``; ``id`` is unique within a run."""

    id: str
    kind: str


@dataclass(frozen=True)
class RunContext:
    """What one run gives its system: names, the sink, broker addresses and limits."""

    run_id: str
    queue: str
    sink_dir: Path
    amqp_url: str
    redis_url: str
    timeout: float
    #: Make every enqueue wait until the broker has the job durably (publisher
    #: confirms on RabbitMQ). On by default, as the at-least-once setting; an
    #: adapter whose system is always durable on accept (Workq) ignores it.
    confirms: bool = True

    def worker_env(self) -> dict[str, str]:
        """Environment for worker processes: the sink, the queue, and ``bench`` importable."""
        env = dict(os.environ)
        path = env.get("PYTHONPATH", "")
        env["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{path}" if path else str(REPO_ROOT)
        env[SINK_ENV] = str(self.sink_dir)
        env["BENCH_QUEUE"] = self.queue
        env["BENCH_AMQP_URL"] = self.amqp_url
        env["BENCH_REDIS_URL"] = self.redis_url
        env["PYTHONUNBUFFERED"] = "1"
        return env


class System(Protocol):
    """A job system under test; see the module docstring for the call order and rules."""

    name: str

    def setup(self, ctx: RunContext) -> None:
        """Connect to the broker and purge this run's queue."""

    def start_workers(self, n: int) -> Sequence[int]:
        """Spawn ``n`` worker processes (or one process with ``n`` pool slots); return root pids."""

    def enqueue_bulk(self, jobs: Sequence[Job]) -> None:
        """Submit all ``jobs`` the fastest documented way; return once all are accepted."""

    def enqueue_one(self, job: Job) -> None:
        """Submit one job; return once it is accepted."""

    def stop_workers(self) -> None:
        """Stop the workers cleanly; raise if they do not stop in time."""

    def teardown(self) -> None:
        """Delete the queues and keys that this run made and close connections."""

    def versions(self) -> dict[str, str]:
        """Versions of the packages that make up this system."""
