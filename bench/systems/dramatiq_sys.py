"""Dramatiq on RabbitMQ: ``dramatiq --processes N`` with its default 8 threads per process.

``dramatiq-4t`` is the same with 4 threads per process, the configuration the
API-edge issue names for the pre-filled drain comparison.

Choices, and why:

- At-least-once: Dramatiq acks a message only after the actor returned (its
  default), messages are persistent, and ``confirm_delivery=True`` makes an
  enqueue wait for RabbitMQ's publisher confirm, so an accepted job is on the
  broker (Dramatiq's docs name it the setting for reliable enqueues;
  ``--no-confirms`` turns it off).
- Prefetch and threads: Dramatiq's defaults, 8 worker threads per process and
  a queue prefetch of twice the threads. That is how Dramatiq documents a
  worker process; threads overlap broker round trips (they do not help the
  CPU-bound Fibonacci job, because of the GIL).
- Results: no Results middleware (Dramatiq's default); completions come from
  the sink. Workq stores results, so this favours Dramatiq.
- Middleware: Dramatiq's default set (retries, time and age limits, ...),
  left as a user gets it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.metadata import version

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from bench.procs import ProcessGroup
from bench.systems.base import Job, RunContext
from bench.workload import run_job

ACTOR_NAME = "run_job"


def make_broker(amqp_url: str, queue: str, confirms: bool = True) -> RabbitmqBroker:
    broker = RabbitmqBroker(url=amqp_url, confirm_delivery=confirms)
    dramatiq.actor(actor_name=ACTOR_NAME, queue_name=queue, broker=broker)(run_job)
    return broker


# The worker processes import this module (``dramatiq bench.systems.dramatiq_sys``);
# the queue name comes from the harness through the environment.
broker = make_broker(
    os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    os.environ.get("BENCH_QUEUE", "bench"),
)
dramatiq.set_broker(broker)


class DramatiqSystem:
    name = "dramatiq"
    threads = 8

    def setup(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.broker = make_broker(ctx.amqp_url, ctx.queue, ctx.confirms)
        self.actor = self.broker.get_actor(ACTOR_NAME)
        self.group = ProcessGroup(ctx.sink_dir)
        self.broker.declare_queue(ctx.queue, ensure=True)
        self.broker.flush(ctx.queue)

    def start_workers(self, n: int) -> Sequence[int]:
        cmd = [sys.executable, "-m", "dramatiq", __name__, "--processes", str(n)]
        cmd += ["--threads", str(self.threads), "--queues", self.ctx.queue]
        return [self.group.spawn(cmd, self.ctx.worker_env())]

    def enqueue_bulk(self, jobs: Sequence[Job]) -> None:
        # Dramatiq has no bulk enqueue (group() sends one by one too).
        for job in jobs:
            self.actor.send(job.kind, job.id)

    def enqueue_one(self, job: Job) -> None:
        self.actor.send(job.kind, job.id)

    def stop_workers(self) -> None:
        self.group.stop()

    def teardown(self) -> None:
        channel = self.broker.channel
        for suffix in ("", ".DQ", ".XQ"):
            channel.queue_delete(self.ctx.queue + suffix)
        self.broker.close()

    def versions(self) -> dict[str, str]:
        return {p: version(p) for p in ("dramatiq", "pika")}


class Dramatiq4ThreadsSystem(DramatiqSystem):
    name = "dramatiq-4t"
    threads = 4
