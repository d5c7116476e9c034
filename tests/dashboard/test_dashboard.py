"""The dashboard in a real headless Chromium against a real stack: what a user does with it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import workq
from tests.dashboard.conftest import BROKEN, PASSWORD, Traffic, origin, sign_in
from workq_entrypoints.stack import Stack

# A mark the page keeps until it is reloaded: seeing it after a change proves
# the change arrived live, not by a new page load.
MARK = "window.__workqTestMark = 1"
MARKED = "window.__workqTestMark === 1"


def count(page: Any, name: str) -> str:
    return page.inner_text(f".counts [data-count={name}]")


def test_signing_in_goes_through_the_auth_service_and_back(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    # Given a browser with no cookie, when it opens the dashboard
    page.goto(origin(stack.jobs_url) + "/")
    # Then it is sent to the auth service's sign-in form
    page.wait_for_url(origin(stack.auth_url) + "/signin?**")
    # When the password is wrong, the form says so and stays
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD + "-wrong")
    page.click("button[name=signin]")
    page.wait_for_selector("#error:not([hidden])")
    assert "invalid" in page.inner_text("#error").lower()
    # When it is right, the browser is back on the dashboard, signed in
    page.fill("input[name=password]", PASSWORD)
    page.click("button[name=signin]")
    page.wait_for_url(origin(stack.jobs_url) + "/**")
    page.wait_for_selector("table.jobs")
    # And signing out sends the next visit to the sign-in form again
    page.click("#sign-out")
    page.wait_for_selector("#notice:not([hidden])")
    assert page.inner_text("#notice") == "Signed out."
    page.goto(origin(stack.jobs_url) + "/")
    page.wait_for_url(origin(stack.auth_url) + "/signin?**")
    traffic.check()


def test_the_sign_in_page_follows_no_link_to_another_host(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    page.goto(origin(stack.auth_url) + "/signin?next=http://example.com/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[name=signin]")
    page.wait_for_selector("#notice:not([hidden])")
    assert page.inner_text("#notice") == f"Signed in as {email}."
    assert page.url.startswith(origin(stack.auth_url) + "/signin")
    traffic.check()  # and nothing was even asked of example.com


def test_an_account_created_on_the_sign_in_page_is_signed_in(
    page: Any, stack: Stack, traffic: Traffic
) -> None:
    page.goto(origin(stack.jobs_url) + "/")
    page.wait_for_url(origin(stack.auth_url) + "/signin?**")
    page.fill("input[name=email]", f"new-{uuid.uuid4().hex[:8]}@example.com")
    # a password the auth service refuses: its message shows, nothing is created
    page.fill("input[name=password]", "short")
    page.click("button[name=signup]")
    page.wait_for_selector("#error:not([hidden])")
    assert "password" in page.inner_text("#error").lower()
    page.fill("input[name=password]", PASSWORD)
    page.click("button[name=signup]")
    page.wait_for_url(origin(stack.jobs_url) + "/**")
    page.wait_for_selector("table.jobs >> text=No jobs.")
    traffic.check()


def test_a_job_submitted_from_the_form_is_watched_to_completion_live(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    sign_in(page, stack, email)
    page.goto(origin(stack.jobs_url) + "/#/submit/Sleep")
    page.wait_for_selector("form.submit #field-seconds")
    # Given a value the schema refuses, the API's error shows at its field
    page.fill("#field-seconds", "9")
    page.click("form.submit button[type=submit]")
    error = page.wait_for_selector("[data-field=seconds] .field-error:not([hidden])")
    assert error.inner_text() == "9 is greater than the maximum of 5"
    assert "#/submit" in page.url  # nothing was submitted
    # When the value is valid, the job page opens and follows the job
    page.fill("#field-seconds", "1.5")
    page.click("form.submit button[type=submit]")
    page.wait_for_url("**/#/job/*")
    page.evaluate(MARK)
    page.wait_for_selector(".summary .status-running, .summary .status-queued")
    # Then it completes on the page without a reload, with its result in the item table
    page.wait_for_selector(".summary .status-completed")
    assert page.evaluate(MARKED)
    assert count(page, "completed") == "1"
    row = page.inner_text("table.items tbody tr[data-item='0']")
    assert "completed" in row and '{"slept":1.5}' in row and "1/" in row
    # And it followed the job the best way the service offers
    assert page.inner_text("#live-mode") == "live: subscription"
    traffic.check()


def test_without_the_websocket_the_job_page_polls_and_still_follows_the_job(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    # Given a proxy that refuses WebSockets (as an older service, without subscriptions, does)
    page.route_web_socket("**/graphql", lambda ws: ws.close(code=1008, reason="no websockets"))
    sign_in(page, stack, email)
    with workq.Client(stack.jobs_url, stack.auth_url) as client:
        client.login(email, PASSWORD)
        job = client.submit("Sleep", [{"seconds": 0.5}, {"seconds": 2}])
    page.goto(f"{origin(stack.jobs_url)}/#/job/{job.id}")
    page.evaluate(MARK)
    # Then the page re-reads every second and shows the job completing, without a reload
    page.wait_for_selector(".summary .status-running")
    page.wait_for_selector(".summary .status-completed")
    assert page.evaluate(MARKED)
    assert count(page, "completed") == "2"
    assert page.inner_text("#live-mode") == "live: polling"
    traffic.check()


def test_a_job_of_several_items_submitted_as_json_is_cancelled_from_its_page(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    sign_in(page, stack, email)
    page.goto(origin(stack.jobs_url) + "/#/submit/Sleep")
    page.click("form.submit details summary")
    page.fill("textarea[name=items]", json.dumps([{"seconds": 1}] * 16))
    page.click("form.submit button[type=submit]")
    page.wait_for_url("**/#/job/*")
    # Given four of its 16 items run (four threads, one item each) while the others wait
    page.wait_for_selector(".summary .status-running")
    # When the job is cancelled
    page.click("button[name=cancel]")
    # Then the waiting items are cancelled, the running ones finish, and the page follows
    page.wait_for_selector(".summary .status-cancelled")
    cancelled, completed = int(count(page, "cancelled")), int(count(page, "completed"))
    assert cancelled >= 4 and completed >= 1 and cancelled + completed == 16
    assert page.is_disabled("button[name=cancel]")
    traffic.check()


def test_a_dead_item_shows_in_dead_letters_and_re_runs_to_completion(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    BROKEN.add("ui-dead")
    sign_in(page, stack, email)
    page.goto(origin(stack.jobs_url) + "/#/submit/Flaky")
    page.fill("#field-key", "ui-dead")
    page.click("form.submit button[type=submit]")
    page.wait_for_url("**/#/job/*")
    job_id = page.url.rsplit("/", 1)[1]
    # Given the item died on its only attempt, the job page shows it and its error
    page.wait_for_selector(".summary .status-failed")
    assert count(page, "dead") == "1"
    assert "RuntimeError: key ui-dead is broken" in page.inner_text("table.items")
    # And the dead-letter view lists it with its job
    page.goto(origin(stack.jobs_url) + "/#/dead")
    block = page.wait_for_selector(f"article.dead-job[data-job='{job_id}']")
    assert "key ui-dead is broken" in block.inner_text()
    # When the cause is mended and the dead items are re-run from there
    BROKEN.discard("ui-dead")
    block.query_selector("button[name=retry-dead]").click()
    # Then the job page follows the re-run to completion
    page.wait_for_url(f"**/#/job/{job_id}")
    page.wait_for_selector(".summary .status-completed")
    assert count(page, "dead") == "0"
    assert '{"mended":"ui-dead"}' in page.inner_text("table.items")
    traffic.check()


def test_the_jobs_list_filters_by_status_and_type(
    page: Any, stack: Stack, email: str, traffic: Traffic
) -> None:
    with workq.Client(stack.jobs_url, stack.auth_url) as client:
        client.login(email, PASSWORD)
        done = client.wait(client.submit("Sleep", {"seconds": 0}).id, timeout_s=20)
        BROKEN.add("ui-list")
        failed = client.wait(client.submit("Flaky", {"key": "ui-list"}).id, timeout_s=20)
    sign_in(page, stack, email)
    page.wait_for_selector(f"tr[data-job='{done.id}']")
    page.wait_for_selector(f"tr[data-job='{failed.id}']")
    # When filtering by status, only those jobs stay
    filter_jobs(page, status="failed")
    listed = shown(page, "status=failed")
    assert failed.id in listed and done.id not in listed
    # And by type (with any status)
    filter_jobs(page, status="", type="Sleep")
    listed = shown(page, "type=Sleep")
    assert done.id in listed and failed.id not in listed
    # And a date range that ends before today shows none of them
    filter_jobs(page, to="2000-01-01")
    assert shown(page, "type=Sleep&to=2000-01-01") == []
    assert "No jobs." in page.inner_text("table.jobs")
    traffic.check()


def filter_jobs(
    page: Any, *, status: str | None = None, type: str | None = None, to: str | None = None
) -> None:
    if status is not None:
        page.select_option("select[name=status]", status)
    if type is not None:
        page.select_option("select[name=type]", type)
    if to is not None:
        page.fill("input[name=to]", to)
    page.click(".filters button[type=submit]")


def shown(page: Any, filters: str) -> list[str]:
    """The job ids in the list once it shows ``filters`` (a rendered table says which it shows)."""
    page.wait_for_selector(f"table.jobs[data-filters='{filters}']")
    return page.eval_on_selector_all(
        "table.jobs tr[data-job]", "rows => rows.map(r => r.dataset.job)"
    )


def test_graphiql_loads_on_both_services_from_the_package(
    page: Any, stack: Stack, traffic: Traffic
) -> None:
    # GraphiQL starts with the query it last had, kept in the page's storage
    page.add_init_script('localStorage.setItem("graphiql:query", "{ __typename }")')
    for url in (stack.auth_url, stack.jobs_url):
        page.goto(url)
        page.wait_for_selector(".graphiql-container .graphiql-query-editor")
        # the schema arrived by introspection: the docs explorer shows its root types
        page.click("button[aria-label='Show Documentation Explorer']")
        page.wait_for_selector(".graphiql-doc-explorer-content >> text=Query")
        # and a query runs through GraphiQL's fetcher, under the page's policy
        page.click(".graphiql-execute-button")
        page.locator(".result-window", has_text="__typename").wait_for()
        assert '"Query"' in page.inner_text(".result-window")
    traffic.check()
