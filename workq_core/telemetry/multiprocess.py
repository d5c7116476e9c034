"""Metrics from several processes on one port: prometheus-client's multiprocess mode.

``workq executor --processes N`` and ``workq jobs|auth --workers N`` run
processes that each count their own items or requests, while one port is
scraped. prometheus-client's multiprocess mode has each process write its
values to files in one directory (``PROMETHEUS_MULTIPROC_DIR``) and sums them
at scrape time, so a scrape of any process reports the whole service. Every
service command calls :func:`prepare` before the first metric exists; the
processes it starts inherit the directory through the environment.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile

logger = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
_OWNER_ENV = "WORKQ_METRICS_DIR_OWNER"


def prepare() -> str:
    """Use the inherited or operator-given directory, or make a fresh one owned by this process."""
    existing = os.environ.get(ENV)
    if existing:
        return existing
    if "prometheus_client.values" in sys.modules:
        logger.warning("prometheus-client was imported before multiprocess mode was chosen")
    path = tempfile.mkdtemp(prefix="workq-metrics-")
    os.environ[ENV] = path
    os.environ[_OWNER_ENV] = str(os.getpid())
    return path


def cleanup() -> None:
    """Remove the directory if this process made it (copies and children leave it alone)."""
    path = os.environ.get(ENV)
    if path and os.environ.get(_OWNER_ENV) == str(os.getpid()):
        shutil.rmtree(path, ignore_errors=True)


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def process_exited(pid: int | None) -> None:
    """Drop a stopped child's ``livesum`` gauges (its busy threads are no longer busy)."""
    if pid is not None and enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
