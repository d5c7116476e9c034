"""Screenshots of the dashboard's main pages, for docs/dashboard.md.

``python -m bench.screenshots docs/dashboard`` starts a throwaway local stack
(SQLite and pulsar-lite in a temporary directory, free ports), fills it with a
few jobs (one finished, one running, one with dead items), and saves
``signin.png``, ``jobs.png``, ``job.png``, ``submit.png``, ``dead-letters.png``
and ``graphiql.png`` into the folder given. It drives the system's Chromium
through Playwright (``pip install -e '.[test]'``; ``--chromium PATH`` if it is
not on PATH), as the browser tests do. Run it by hand after changing a page.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

import workq
from tests.support.browser import INSTALL_HINT, chromium_path
from workq_core import RetryPolicy, hookimpl
from workq_core.runtime import bootstrap
from workq_entrypoints.stack import Stack, start_stack

EMAIL = "ada@example.com"
PASSWORD = "S3cret!pass"  # noqa: S105 (a throwaway stack's demo user)
VIEWPORT = {"width": 1280, "height": 800}


class ThumbnailJob:
    """A made-up job type with a richer schema than Fibonacci's, so the form has more to show."""

    name = "Thumbnail"
    description = "Make a thumbnail of an image (a demo: it only waits, and fails for .gif)."
    input_schema = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "Where the image is."},
            "width": {"type": "integer", "minimum": 16, "maximum": 4096, "default": 256},
            "format": {"enum": ["png", "jpeg", "webp"], "default": "webp"},
            "keepExif": {"type": "boolean", "title": "keep EXIF"},
        },
        "required": ["url", "width"],
        "additionalProperties": False,
    }
    retry = RetryPolicy(max_attempts=2, base_delay_ms=100, max_delay_ms=200)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        time.sleep(0.4)
        if data["url"].endswith(".gif"):
            raise ValueError(f"cannot decode {data['url']}: animated GIFs are not supported")
        return {"thumbnail": data["url"].rsplit(".", 1)[0] + f"-{data['width']}.webp"}


class ScreenshotPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(ThumbnailJob())


def origin(url: str) -> str:
    return url.removesuffix("/graphql")


def fill(stack: Stack) -> str:
    """A user with three jobs; returns the id of the one still running."""
    with workq.Client(stack.jobs_url, stack.auth_url) as client:
        client.create_user(EMAIL, PASSWORD)
        client.login(EMAIL, PASSWORD)
        images = [{"url": f"https://img.example/{n}.{'gif' if n % 7 == 3 else 'png'}",
                   "width": 320} for n in range(24)]  # fmt: skip
        client.wait(
            client.submit("Fibonacci", [{"iterations": n} for n in range(40)]).id, timeout_s=60
        )
        client.wait(client.submit("Thumbnail", images).id, timeout_s=60)
        running = client.submit("Thumbnail", [{"url": f"https://img.example/{n}.png",
                                               "width": 128} for n in range(60)])  # fmt: skip
        return running.id


def shoot(page: Page, stack: Stack, running_id: str, out: Path) -> None:
    jobs = origin(stack.jobs_url)
    page.goto(jobs + "/")
    page.wait_for_url("**/signin?**")
    page.fill("input[name=email]", EMAIL)
    page.screenshot(path=out / "signin.png")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[name=signin]")
    page.wait_for_selector("table.jobs tr[data-job]")
    page.screenshot(path=out / "jobs.png")
    page.goto(f"{jobs}/#/job/{running_id}")
    page.wait_for_selector(".summary .status-running")
    time.sleep(1.5)  # a few items further
    page.screenshot(path=out / "job.png")
    page.goto(jobs + "/#/submit/Thumbnail")
    page.fill("#field-url", "https://img.example/cat.png")
    page.fill("#field-width", "9000")
    page.click("form.submit button[type=submit]")
    page.wait_for_selector(".field-error:not([hidden])")
    page.screenshot(path=out / "submit.png")
    page.goto(jobs + "/#/dead")
    page.wait_for_selector("article.dead-job")
    page.screenshot(path=out / "dead-letters.png")
    page.add_init_script(
        'localStorage.setItem("graphiql:query",'
        ' "{\\n  myJobs(first: 3) {\\n    nodes { id name status size completed dead }\\n  }\\n}")'
    )
    page.goto(stack.jobs_url)
    page.click(".graphiql-execute-button")
    page.locator(".result-window", has_text="nodes").wait_for()
    page.screenshot(path=out / "graphiql.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--chromium", default=None, help="Chromium executable")
    args = parser.parse_args(argv)
    chromium = args.chromium or chromium_path()
    if chromium is None:
        parser.error(INSTALL_HINT)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="workq-screenshots-") as data_dir:
        runtime = bootstrap(
            env={"WORKQ_CORE_DATA_DIR": data_dir, "WORKQ_CORE_LOCAL": "true",
                 "WORKQ_AUTH_BCRYPT_COST": "4", "WORKQ_EXECUTOR_RELAY": "false",
                 "WORKQ_EXECUTOR_THREADS": "2", "WORKQ_EXECUTOR_BATCH_SIZE": "1"},
            extra_plugins=[("screenshots", ScreenshotPlugin())],
        )  # fmt: skip
        stack = start_stack(runtime, free_ports=True)
        try:
            running_id = fill(stack)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium)
                shoot(browser.new_page(viewport=VIEWPORT), stack, running_id, args.out)
                browser.close()
        finally:
            stack.stop()
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
