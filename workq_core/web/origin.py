"""CSRF defence in depth: a cookie-authenticated mutation must come from an allowed origin."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import falcon

from workq_core.web.body import RequestRejected
from workq_core.web.cookies import COOKIE_NAME


def cross_origin_refused() -> RequestRejected:
    """A new error per request: one shared instance would carry tracebacks across threads."""
    return RequestRejected(
        falcon.HTTP_403,
        "Mutations authenticated by the cookie must come from this service's own origin;"
        " send Authorization: Bearer instead.",
        "FORBIDDEN",
    )


def foreign_cookie_request(req: falcon.Request, allowed_origins: Iterable[str]) -> bool:
    """Whether ``req`` authenticates by cookie and says it comes from another origin.

    Browsers attach the SameSite=Lax cookie to same-site requests, which
    include other ports and subdomains of the same site; they also send
    ``Origin`` on every POST. A request with an ``Authorization`` header does
    not use the cookie (a cross-site page cannot set that header without a
    CORS preflight, which this service never grants), and a request without
    ``Origin`` does not come from a browser page. The scheme is not compared:
    TLS usually ends at a reverse proxy, so the service sees plain HTTP.
    """
    origin = req.get_header("Origin")
    if origin is None or req.get_header("Authorization") is not None:
        return False
    if not req.get_cookie_values(COOKIE_NAME):
        return False
    normalized = origin.strip().rstrip("/").lower()
    if normalized in {o.strip().rstrip("/").lower() for o in allowed_origins}:
        return False
    host = (req.get_header("Host") or "").strip().lower()
    try:
        origin_host = urlsplit(normalized).netloc
    except ValueError:  # a malformed Origin is not our origin
        return True
    return not host or origin_host != host
