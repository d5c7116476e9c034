"""One scrape: this process's metrics (or every process's, in multiprocess mode) plus extras."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import Metric

from workq_core.telemetry import multiprocess


class _Scrape:
    """What ``generate_latest`` reads: a ``collect()`` over the process metrics and the extras."""

    def __init__(self, collectors: Iterable[Any]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        if multiprocess.enabled():
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        for collector in self.collectors:
            yield from collector.collect()


def scrape(collectors: Iterable[Any] = ()) -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type."""
    import workq_core.telemetry.metrics  # noqa: F401 - every documented metric is defined

    return generate_latest(_Scrape(collectors)), CONTENT_TYPE_LATEST
