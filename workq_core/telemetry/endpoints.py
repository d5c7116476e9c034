"""``/healthz``, ``/readyz`` and ``/metrics``: the routes every Workq service serves.

``/healthz`` answers 200 while the process serves HTTP at all (liveness:
restart me if this fails). ``/readyz`` runs the service's probes in threads,
each bounded by ``PROBE_TIMEOUT_S``, and answers 200 only if all pass, else
503 naming what failed (readiness: send me no traffic yet); why it failed,
with addresses and driver messages, goes to the service's log, not to the
client (the port may be public). ``/metrics`` is
the Prometheus text format, summed over the service's processes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import falcon
import falcon.asgi

from workq_core.telemetry.probes import Probe
from workq_core.telemetry.scrape import scrape

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0
_POOL = ThreadPoolExecutor(8, thread_name_prefix="workq-probe")


class Healthz:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        _json(resp, falcon.HTTP_200, {"status": "alive"})


class Readyz:
    def __init__(self, probes: Sequence[Probe]) -> None:
        self.probes = list(probes)

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        results = await asyncio.gather(*(_run(probe) for probe in self.probes))
        checks = dict(zip((p.name for p in self.probes), results, strict=True))
        ready = all(result == "ok" for result in checks.values())
        body = {"status": "ready" if ready else "unready", "checks": checks}
        _json(resp, falcon.HTTP_200 if ready else falcon.HTTP_503, body)


class Metrics:
    def __init__(self, collectors: Iterable[Any]) -> None:
        self.collectors = list(collectors)

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        loop = asyncio.get_running_loop()
        body, content_type = await loop.run_in_executor(_POOL, scrape, self.collectors)
        resp.content_type = content_type
        resp.data = body


def operational_routes(
    probes: Sequence[Probe], collectors: Iterable[Any] = ()
) -> dict[str, object]:
    """Path to resource, for ``create_app(routes=...)`` or :func:`operational_app`."""
    return {"/healthz": Healthz(), "/readyz": Readyz(probes), "/metrics": Metrics(collectors)}


def operational_app(probes: Sequence[Probe], collectors: Iterable[Any] = ()) -> falcon.asgi.App:
    """An app serving only these routes (the executor's port)."""
    app = falcon.asgi.App()
    for path, resource in operational_routes(probes, collectors).items():
        app.add_route(path, resource)
    return app


async def _run(probe: Probe) -> str:
    """``ok``, or why not in a few words; the details (addresses, driver text) go to the log."""
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(_POOL, probe.check), PROBE_TIMEOUT_S)
    except TimeoutError:
        logger.warning("readiness check timed out", extra={"check": probe.name})
        return f"unavailable (no answer within {PROBE_TIMEOUT_S:g} s)"
    except Exception as exc:
        logger.warning(
            "readiness check failed",
            extra={"check": probe.name, "error": f"{type(exc).__name__}: {exc}"},
        )
        return f"unavailable ({type(exc).__name__})"
    return "ok"


def _json(resp: falcon.asgi.Response, status: str, body: dict[str, Any]) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.set_header("Cache-Control", "no-store")
    resp.text = json.dumps(body, separators=(",", ":"))
