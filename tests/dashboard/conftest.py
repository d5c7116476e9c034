"""A real stack and the system's headless Chromium, for the dashboard's browser tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

import workq
from tests.client.conftest import SleepJob
from tests.support.browser import INSTALL_HINT, chromium_path
from workq_core import RetryPolicy, hookimpl
from workq_core.runtime import bootstrap
from workq_core.web import COOKIE_NAME
from workq_entrypoints.stack import Stack, start_stack

PASSWORD = "S3cret!pass-for-the-dashboard"
BROKEN: set[str] = set()  # keys Flaky items fail on, until a test mends them
LOOPBACK = "127.0.0.1"


class FlakyJob:
    """Fails (one attempt) while its key is in BROKEN: a dead item a test can mend and re-run."""

    name = "Flaky"
    description = "Fail while the key is broken."
    input_schema = {
        "type": "object",
        "properties": {"key": {"type": "string", "minLength": 1}},
        "required": ["key"],
    }
    retry = RetryPolicy(max_attempts=1)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        if data["key"] in BROKEN:
            raise RuntimeError(f"key {data['key']} is broken")
        return {"mended": data["key"]}


class DashboardPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(SleepJob())
        registry.add(FlakyJob())


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable; none is a failure naming how to install one."""
    path = chromium_path()
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """Chromium under Playwright's sync API, for one module at a time.

    While Playwright runs, the thread counts as running an event loop, so
    ``asyncio.run`` (falcon's test client, for one) fails there; ending it
    with the module keeps that from reaching other tests.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright: pip install -e '.[test]'", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every service on free ports in this process; SQLite and pulsar-lite in a fresh data dir."""
    runtime = bootstrap(
        env={
            "WORKQ_CORE_DATA_DIR": str(tmp_path_factory.mktemp("dashboard-stack")),
            "WORKQ_CORE_LOCAL": "true",
            "WORKQ_AUTH_BCRYPT_COST": "4",
            "WORKQ_EXECUTOR_RELAY": "false",
            "WORKQ_EXECUTOR_BATCH_SIZE": "1",  # a thread takes one item at a time: others wait
        },
        extra_plugins=[("dashboard-jobs", DashboardPlugin())],
    )
    running = start_stack(runtime, free_ports=True)
    try:
        yield running
    finally:
        running.stop()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def email(stack: Stack) -> str:
    """A new user of the stack; its password is PASSWORD."""
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    with workq.Client(stack.jobs_url, stack.auth_url) as client:
        client.create_user(address, PASSWORD)
    return address


@dataclass
class Traffic:
    """What a page did that a test may want to refuse: requests off loopback, script errors."""

    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert self.offsite == [], f"requests left the machine: {self.offsite}"
        assert self.errors == [], f"the page reported errors: {self.errors}"


# Console messages that are expected: the dashboard probes the WebSocket and
# falls back to polling when the service does not accept it (docs/dashboard.md).
EXPECTED_CONSOLE = ("WebSocket connection to",)


# Chromium logs refused loads itself; this also names the directive (and so
# catches an inline style or script the Content-Security-Policy refused).
REPORT_POLICY_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`policy violation: ${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser: Any, traffic: Traffic) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose requests may only go to loopback."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            traffic.offsite.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    opened = context.new_page()
    opened.add_init_script(REPORT_POLICY_VIOLATIONS)
    opened.on("pageerror", lambda exc: traffic.errors.append(f"pageerror: {exc}"))
    opened.on(
        "console",
        lambda message: (
            traffic.errors.append(f"console: {message.text}")
            if message.type == "error" and not message.text.startswith(EXPECTED_CONSOLE)
            else None
        ),
    )
    yield opened
    context.close()


def sign_in(page: Any, stack: Stack, email: str) -> None:
    """Open the dashboard signed in as ``email``, with the cookie its sign-in page would set.

    The sign-in page itself is tested once (test_signing_in_...); the other
    tests take this shortcut: a login through the API, its token as the cookie.
    """
    with workq.Client(stack.jobs_url, stack.auth_url) as client:
        token = client.login(email, PASSWORD)
    cookie = {"name": COOKIE_NAME, "value": token, "domain": LOOPBACK, "path": "/"}
    page.context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Lax"}])
    page.goto(origin(stack.jobs_url) + "/")
    page.wait_for_selector("table.jobs")
