"""Every route of both services refuses state-changing requests a hostile page makes with the
victim's cookie: no job stored, the session not logged out (tests/security/test_csrf.py
covers /graphql in depth; this walks every route the running apps serve)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from workq_core.web import COOKIE_NAME

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MUTATION = (
    '{"query": "mutation { executeJob(executeJobInput:'
    ' {name: \\"Echo\\", data: {text: \\"x\\"}}) { id } logout }"}'
)


def test_no_route_accepts_a_state_change_from_a_foreign_page(stack):
    victim = stack.user()
    headers = {
        "Cookie": f"{COOKIE_NAME}={victim.cookies[COOKIE_NAME]}",
        "Origin": "https://evil.example",
        "Content-Type": "application/json",
    }

    answers = {}
    with httpx.Client(timeout=10) as http:
        for service, server in (("auth", stack.auth.http), ("jobs", stack.jobs.http)):
            for path in _paths(server):
                for method in ("POST", "PUT", "PATCH", "DELETE"):
                    url = f"http://127.0.0.1:{server.port}{path}"
                    answer = http.request(method, url, headers=headers, content=MUTATION)
                    answers[f"{service} {method} {path}"] = answer

    accepted = {
        where: r.status_code
        for where, r in answers.items()
        if r.status_code < 400 and "errors" not in r.text
    }
    assert accepted == {}
    assert stack.count("jobs") == 0
    still = victim.post("{ myJobs { nodes { id } } }").json
    assert still == {"data": {"myJobs": {"nodes": []}}}  # the cookie was not logged out


def _paths(server: Any) -> list[str]:
    """Every route of a running service's falcon app, with a sample value for a path field."""
    app = server._server.config.app

    def walk(nodes: list[Any]) -> list[str]:
        found = []
        for node in nodes:
            if node.resource is not None:
                found.append(re.sub(r"\{[^}]+\}", "dashboard/app.js", node.uri_template))
            found += walk(node.children)
        return found

    paths = walk(app._router._roots)
    assert "/graphql" in paths and "/metrics" in paths and "/healthz" in paths
    return paths
