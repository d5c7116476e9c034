"""The packaged browser files: served with the right types, cache rules and policy, nothing else."""

from __future__ import annotations

import configparser
import fnmatch
import re
from pathlib import Path

import falcon.asgi
import pytest
from falcon import testing

from tests.web.conftest import HostClient
from workq_core.jobs_service.dashboard import dashboard_page, sign_in_url
from workq_core.runtime import bootstrap
from workq_core.web.app import CONTENT_SECURITY_POLICY
from workq_core.web.assets import IMMUTABLE, SERVED_FOLDERS, Page

STATIC = Path(__file__).parents[2] / "workq_core" / "web" / "static"
GRAPHIQL_JS = "/static/vendor/graphiql-3.8.3/graphiql.min.js"


def test_a_vendor_file_is_javascript_cached_for_a_year(client: testing.TestClient) -> None:
    result = client.simulate_get(GRAPHIQL_JS)

    assert result.status_code == 200
    assert result.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert result.headers["Cache-Control"] == IMMUTABLE
    assert result.content == (STATIC / GRAPHIQL_JS.removeprefix("/static/")).read_bytes()


def test_an_app_file_is_revalidated_and_answers_304_when_unchanged(
    client: testing.TestClient,
) -> None:
    first = client.simulate_get("/static/dashboard/style.css")
    assert first.headers["Content-Type"] == "text/css; charset=utf-8"
    assert first.headers["Cache-Control"] == "no-cache"

    again = client.simulate_get(
        "/static/dashboard/style.css", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/static/package.json",  # outside the served folders
        "/static/package-lock.json",
        "/static/update-vendor.sh",
        "/static/README.md",
        "/static/dashboard/missing.js",
        "/static/dashboard/../package.json",
        "/static/dashboard/%2e%2e/package.json",
        "/static/vendor/react-18.3.1/LICENSE",  # no served type
        "/static/dashboard/.hidden.js",
        "/static/dashboard",
    ],
)
def test_only_files_of_the_served_folders_are_served(client: testing.TestClient, path: str) -> None:
    assert client.simulate_get(path).status_code == 404


def test_every_response_carries_the_self_only_policy(client: testing.TestClient) -> None:
    for result in (
        client.simulate_get("/graphql", headers={"Accept": "text/html"}),
        client.simulate_get("/graphql", params={"query": "{ hello }"}),
        client.simulate_get("/static/dashboard/app.js"),
    ):
        assert result.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "connect-src 'self'" in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY  # no other host anywhere


def test_graphiql_page_loads_only_packaged_files(client: testing.TestClient) -> None:
    page = client.simulate_get("/graphql", headers={"Accept": "text/html"})

    assert page.headers["Cache-Control"] == "no-cache"
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") or s.startswith("data:") for s in sources)
    for source in sources:
        if source.startswith("/static/"):
            assert client.simulate_get(source).status_code == 200, source
    assert "<script>" not in page.text  # no inline script: the policy would refuse it


def test_every_packaged_page_refers_only_to_files_that_exist() -> None:
    for html in STATIC.glob("*/*.html"):
        for source in re.findall(r'(?:src|href)="(/static/[^"]+)"', html.read_text()):
            assert (STATIC / source.removeprefix("/static/")).is_file(), (html.name, source)


def test_setup_cfg_ships_every_served_file() -> None:
    config = configparser.ConfigParser()
    config.read(Path(__file__).parents[2] / "setup.cfg")
    patterns = config["options.package_data"]["workq_core.web"].split()
    served = [
        p.relative_to(STATIC.parent).as_posix()
        for folder in SERVED_FOLDERS
        for p in (STATIC / folder).rglob("*")
        if p.is_file()
    ]
    assert served
    unshipped = [f for f in served if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert unshipped == []


def page_client(env: dict[str, str]) -> testing.TestClient:
    settings = bootstrap(env=env, load_entry_points=False).settings
    app = falcon.asgi.App()
    app.add_route("/", dashboard_page(settings))
    return HostClient(app)


def test_the_dashboard_sends_browsers_to_the_auth_service_on_the_host_they_used() -> None:
    result = page_client({"WORKQ_AUTH_PORT": "4100"}).simulate_get(
        "/", headers={"Host": "localhost:3001"}
    )

    assert result.status_code == 200
    assert '<meta name="workq-sign-in" content="http://localhost:4100/signin">' in result.text


def test_a_configured_sign_in_url_is_used_as_given_and_escaped() -> None:
    url = 'https://example.com/auth/signin?a=1&b="x"'
    result = page_client({"WORKQ_JOBS_SIGN_IN_URL": url}).simulate_get("/")

    assert 'content="https://example.com/auth/signin?a=1&amp;b=&quot;x&quot;"' in result.text


def test_sign_in_url_brackets_an_ipv6_host() -> None:
    settings = bootstrap(env={}, load_entry_points=False).settings

    class Req:
        host, scheme = "::1", "http"

    assert sign_in_url(settings, Req()) == "http://[::1]:3000/signin"  # type: ignore[arg-type]


def test_a_page_missing_from_the_package_stops_start_up() -> None:
    with pytest.raises(RuntimeError, match=r"static/dashboard/nothing\.html is missing"):
        Page("dashboard/nothing.html")
