"""``pipe``: no broker at all, jobs go round-robin down each worker's stdin.

Not a peer but the floor: what the job, the sink and process start-up cost
on this machine, with no queue, persistence or acknowledgement. It needs no
package and no server, so the smoke test can always exercise the runner with
it. Run it with ``--systems pipe,...``; it is not in the default set.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from itertools import cycle
from typing import IO

from bench.procs import ProcessGroup
from bench.systems.base import Job, RunContext
from bench.workload import run_job


class PipeSystem:
    name = "pipe"

    def setup(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.group = ProcessGroup(ctx.sink_dir)

    def start_workers(self, n: int) -> Sequence[int]:
        cmd = [sys.executable, "-m", __name__]
        pids = [self.group.spawn(cmd, self.ctx.worker_env(), stdin_pipe=True) for _ in range(n)]
        pipes: list[IO[bytes]] = [p.stdin for p in self.group.procs if p.stdin is not None]
        self._next = cycle(pipes)
        return pids

    def enqueue_bulk(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            next(self._next).write(f"{job.kind}\t{job.id}\n".encode())
        for pipe in self.group.procs:
            if pipe.stdin is not None:
                pipe.stdin.flush()

    def enqueue_one(self, job: Job) -> None:
        pipe = next(self._next)
        pipe.write(f"{job.kind}\t{job.id}\n".encode())
        pipe.flush()

    def stop_workers(self) -> None:
        self.group.stop()

    def teardown(self) -> None:
        pass

    def versions(self) -> dict[str, str]:
        return {"python": sys.version.split()[0]}


def main() -> None:
    """Worker loop: one job per stdin line until stdin closes."""
    for line in sys.stdin:
        kind, job_id = line.rstrip("\n").split("\t")
        run_job(kind, job_id)


if __name__ == "__main__":
    main()
