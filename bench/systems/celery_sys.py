"""Celery on RabbitMQ, prefork pool: ``celery worker -c N`` is one worker with N pool processes.

Choices, and why:

- At-least-once: ``task_acks_late`` (ack after the task ran) plus
  ``task_reject_on_worker_lost`` (a pool process killed mid-task puts the
  message back), and publisher confirms (``confirm_publish``) so an accepted
  enqueue is on the broker (``--no-confirms`` turns them off). Messages are
  persistent and queues durable, as Celery's defaults are. py-amqp waits for
  each confirm before the next publish, so with confirms the enqueue rate is
  bounded by RabbitMQ's confirm latency for a persistent message.
- Prefetch: ``worker_prefetch_multiplier`` left at Celery's default of 4
  (4 unacked messages per pool process). Celery's optimisation guide asks for
  1 when tasks are long; for many short tasks it recommends a larger value,
  and with ``acks_late`` prefetched messages are still unacked, so nothing is
  lost by prefetching.
- Results: ``task_ignore_result`` (no result backend). Completions are read
  from the sink, and Celery's guide says to ignore results you do not use.
  Workq does store every item's result, so this favours Celery.
- Isolation on a shared broker: no gossip, mingle, event heartbeat or remote
  control, so a run never talks to other people's Celery workers.
- ``-O fair`` and logging at WARNING (no log line per task), the same quiet
  logging every system gets.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.metadata import version

from celery import Celery
from kombu import Exchange, Queue

from bench.procs import ProcessGroup
from bench.systems.base import Job, RunContext
from bench.workload import run_job

TASK_NAME = "bench.run_job"


def make_app(amqp_url: str, confirms: bool = True) -> Celery:
    app = Celery("bench", broker=amqp_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=4,
        broker_transport_options={"confirm_publish": confirms},
        worker_enable_remote_control=False,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    app.task(name=TASK_NAME)(run_job)
    return app


# The worker process imports this module (``celery -A bench.systems.celery_sys``).
app = make_app(os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"))


class CelerySystem:
    name = "celery"

    def setup(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.app = make_app(ctx.amqp_url, ctx.confirms)
        self.task = self.app.tasks[TASK_NAME]
        self.group = ProcessGroup(ctx.sink_dir)
        self.conn = self.app.connection_for_write()
        self.producer = self.app.amqp.Producer(self.conn)
        self._queue_call("purge")

    def _queue_call(self, method: str) -> None:
        # Declared exactly as Celery's worker declares it (a direct exchange of the same name).
        queue = Queue(self.ctx.queue, Exchange(self.ctx.queue), routing_key=self.ctx.queue)
        with self.app.connection_for_write() as conn:
            bound = queue(conn.default_channel)
            bound.declare()
            getattr(bound, method)()

    def start_workers(self, n: int) -> Sequence[int]:
        cmd = [sys.executable, "-m", "celery", "-A", __name__, "worker", "-P", "prefork"]
        cmd += ["-c", str(n), "-Q", self.ctx.queue, "-O", "fair", "--loglevel", "WARNING"]
        cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        cmd += ["-n", f"bench-{self.ctx.run_id}@%h"]
        return [self.group.spawn(cmd, self.ctx.worker_env())]

    def enqueue_bulk(self, jobs: Sequence[Job]) -> None:
        # Reusing one producer is what Celery's docs suggest for sending many tasks.
        for job in jobs:
            self.enqueue_one(job)

    def enqueue_one(self, job: Job) -> None:
        self.task.apply_async(
            (job.kind, job.id),
            queue=self.ctx.queue,
            routing_key=self.ctx.queue,
            producer=self.producer,
        )

    def stop_workers(self) -> None:
        self.group.stop()

    def teardown(self) -> None:
        self.conn.release()
        self._queue_call("delete")

    def versions(self) -> dict[str, str]:
        return {p: version(p) for p in ("celery", "kombu", "amqp", "billiard")}
