"""No token in storage a script can read: the browser pages keep it only in the HttpOnly cookie.

A script injected into a page (an XSS, a compromised dependency) can read
``document.cookie`` (without HttpOnly), localStorage, sessionStorage and
IndexedDB. In a real Chromium, after signing in through the sign-in page and
using the dashboard (a job submitted and followed live) and GraphiQL, none of
them holds the token or anything shaped like a JWT; the cookie is HttpOnly and
SameSite=Lax. And the packaged scripts of our own never touch that storage.
Cross-site requests with the cookie are refused by tests/security/test_csrf.py
(GraphQL) and tests/security/test_foreign_routes.py (every route).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from tests.dashboard.conftest import PASSWORD, Traffic, origin
from workq_core.web import COOKIE_NAME
from workq_entrypoints.stack import Stack

# What a script can read on the page, as one string.
READABLE = """async () => {
  const stores = { cookie: document.cookie, local: {}, session: {}, indexedDB: [] };
  for (let i = 0; i < localStorage.length; i++) {
    stores.local[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
  }
  for (let i = 0; i < sessionStorage.length; i++) {
    stores.session[sessionStorage.key(i)] = sessionStorage.getItem(sessionStorage.key(i));
  }
  if (indexedDB.databases) stores.indexedDB = await indexedDB.databases();
  return JSON.stringify(stores);
}"""
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
STORAGE_APIS = re.compile(r"localStorage|sessionStorage|indexedDB|document\.cookie")


def _readable(page: Any) -> str:
    return str(page.evaluate(READABLE))


def test_the_token_is_in_no_storage_a_script_can_read(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    # Given a user who signs in through the sign-in page (the auth service sets the cookie)
    jobs, auth = origin(stack.jobs_url), origin(stack.auth_url)
    page.goto(jobs + "/")
    page.wait_for_url(auth + "/signin?**")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[name=signin]")
    page.wait_for_selector("table.jobs")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    token = cookie["value"]

    # When they use the dashboard: a job submitted from the form and followed live
    page.goto(jobs + "/#/submit/Sleep")
    page.fill("#field-seconds", "0.2")
    page.click("form.submit button[type=submit]")
    page.wait_for_selector(".summary .status-completed")
    seen = {"dashboard": _readable(page)}
    # and GraphiQL on both services (a query it runs with the cookie), and the sign-in page
    page.add_init_script('localStorage.setItem("graphiql:query", "{ __typename }")')
    for name, url in (("graphiql-jobs", stack.jobs_url), ("graphiql-auth", stack.auth_url)):
        page.goto(url)
        page.wait_for_selector(".graphiql-container .graphiql-query-editor")
        page.click(".graphiql-execute-button")
        page.locator(".result-window", has_text="__typename").wait_for()
        seen[name] = _readable(page)
    page.goto(auth + "/signin")
    seen["signin"] = _readable(page)

    # Then the cookie is HttpOnly and SameSite=Lax, and no storage holds the token
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Lax")
    leaked = {name: text for name, text in seen.items() if token in text or JWT_SHAPE.search(text)}
    assert leaked == {}
    assert '"cookie":""' in seen["dashboard"]  # document.cookie shows nothing of the session
    traffic.check()


def test_the_packaged_scripts_of_our_own_never_touch_script_readable_storage() -> None:
    static = resources.files("workq_core.web") / "static"
    ours = [
        entry
        for folder in ("dashboard", "signin", "graphiql")
        for entry in (static / folder).iterdir()
        if entry.name.endswith((".js", ".html"))
    ]
    assert len(ours) > 5  # the folders are where this test looks

    touching = {entry.name: STORAGE_APIS.findall(entry.read_text()) for entry in ours}

    assert {name: found for name, found in touching.items() if found} == {}
    # GraphiQL (vendored) keeps its editors in localStorage; headers only if told to
    assert "shouldPersistHeaders" not in (static / "graphiql" / "graphiql.js").read_text()
