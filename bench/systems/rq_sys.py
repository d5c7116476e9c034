"""RQ on Redis, as N ``rq worker`` processes: ``rq-simple`` (SimpleWorker) and ``rq-fork`` (Worker).

RQ's default ``Worker`` forks a work horse per job (isolation, at a cost per
job); ``SimpleWorker`` runs jobs in the worker process. Both are measured.

Choices, and why:

- Redis database 5 of the shared server, and a queue named per run, so other
  users of Redis and earlier runs never collide; ``setup`` empties the queue
  and ``teardown`` deletes it with its jobs and registries.
- At-least-once, as far as RQ has it: jobs carry ``Retry(max=3)``, so a
  failed or abandoned job (its worker died) is run again rather than only
  parked in the failed registry. RQ has no broker acknowledgement to tune.
- Results: ``result_ttl=0``, RQ's documented way to not keep results;
  completions come from the sink. Workq stores results, so this favours RQ.
  Measured here with a SimpleWorker in burst mode: 115-126 jobs/s whether
  ``result_ttl`` is 0 or RQ's default 500 and with or without ``Retry``; RQ's
  cost is ~25 Redis round trips per job, not these settings.
- Bulk enqueue: ``Queue.enqueue_many`` in one pipeline, RQ's bulk API.
- Workers log at WARNING, without job descriptions (no log line per job),
  the same quiet logging every system gets.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.metadata import version

from redis import Redis
from rq import Queue, Retry
from rq.queue import EnqueueData

from bench.procs import ProcessGroup
from bench.systems.base import Job, RunContext

FUNC = "bench.workload.run_job"


class _RqSystem:
    name = "rq"
    worker_class = "rq.worker.Worker"

    def setup(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.redis = Redis.from_url(ctx.redis_url)
        self.queue = Queue(ctx.queue, connection=self.redis)
        self.group = ProcessGroup(ctx.sink_dir)
        self.queue.empty()

    def start_workers(self, n: int) -> Sequence[int]:
        cmd = [sys.executable, "-m", "rq.cli", "worker", "-w", self.worker_class]
        cmd += ["-u", self.ctx.redis_url, "--logging_level", "WARNING"]
        cmd += ["--disable-job-desc-logging", self.ctx.queue]
        env = self.ctx.worker_env()
        return [self.group.spawn(cmd, env) for _ in range(n)]

    def _data(self, job: Job) -> EnqueueData:
        return Queue.prepare_data(
            FUNC, (job.kind, job.id), result_ttl=0, retry=Retry(max=3), job_id=job.id
        )

    def enqueue_bulk(self, jobs: Sequence[Job]) -> None:
        with self.redis.pipeline() as pipe:
            self.queue.enqueue_many([self._data(j) for j in jobs], pipeline=pipe)
            pipe.execute()

    def enqueue_one(self, job: Job) -> None:
        self.queue.enqueue(FUNC, job.kind, job.id, result_ttl=0, retry=Retry(max=3), job_id=job.id)

    def stop_workers(self) -> None:
        self.group.stop()

    def teardown(self) -> None:
        self.queue.delete(delete_jobs=True)
        for key in self.redis.scan_iter(f"rq:*{self.ctx.queue}*"):
            self.redis.delete(key)
        self.redis.close()

    def versions(self) -> dict[str, str]:
        return {p: version(p) for p in ("rq", "redis")}


class RqSimpleSystem(_RqSystem):
    name = "rq-simple"
    worker_class = "rq.worker.SimpleWorker"


class RqForkSystem(_RqSystem):
    name = "rq-fork"
    worker_class = "rq.worker.Worker"
