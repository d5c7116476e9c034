"""The dashboard page at the jobs service's ``/``, and where it sends browsers to sign in.

The dashboard (``web/static/dashboard``) is a client of the public GraphQL
API only. The jobs service has no login: a browser signs in on the auth
service's ``/signin`` page, whose ``Authentication`` cookie is host-wide, so
the jobs service on the same host receives it too.
"""

from __future__ import annotations

import falcon

from workq_core.config import Settings
from workq_core.web.assets import Page

DASHBOARD_PAGE = "dashboard/index.html"


def sign_in_url(settings: Settings, req: falcon.Request) -> str:
    """``jobs.sign_in_url``, else the auth service on the host the browser used.

    The host must be the one the browser used (not the bind address): the
    cookie is host-only, so signing in at ``127.0.0.1`` does not sign in a
    dashboard opened at ``localhost``.
    """
    if settings.jobs.sign_in_url:
        return settings.jobs.sign_in_url
    host = req.host if ":" not in req.host else f"[{req.host}]"
    return f"{req.scheme}://{host}:{settings.auth.port}/signin"


def dashboard_page(settings: Settings) -> Page:
    return Page(DASHBOARD_PAGE, lambda req: {"sign_in_url": sign_in_url(settings, req)})
