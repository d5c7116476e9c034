"""When the API cannot answer: nothing listening, a dependency down, not Workq answering."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import workq
from tests.client.conftest import PASSWORD, Running, free_port, nowhere
from workq_core.jobs_service import start_jobs_service
from workq_core.runtime import Runtime


def test_nothing_listening_is_unreachable_naming_the_url() -> None:
    url = nowhere()
    with workq.Client(url, token="any") as client, pytest.raises(workq.Unreachable) as unreachable:
        client.job("00000000-0000-4000-8000-000000000000")
    assert isinstance(unreachable.value, workq.Unavailable)
    assert str(unreachable.value).startswith(f"cannot reach {url} (")
    assert "Connection refused" in str(unreachable.value)
    assert unreachable.value.url == url and unreachable.value.code is None


def test_login_with_the_auth_service_down_is_unreachable(running: Running) -> None:
    url = nowhere()
    with workq.Client(running.jobs_url, url) as client, pytest.raises(workq.Unreachable) as down:
        client.login("a@example.com", PASSWORD)
    assert str(down.value).startswith(f"cannot reach {url}")


@pytest.fixture
def jobs_without_auth(running: Running) -> Iterator[str]:
    """A jobs service whose auth service (gRPC) is not running; yields its URL."""
    settings = running.runtime.settings.replace(
        "jobs", auth_grpc=f"127.0.0.1:{free_port()}", relay=False
    )
    handle = start_jobs_service(
        Runtime(settings, running.runtime.pm, running.runtime.catalog), port=0
    )
    yield handle.url
    handle.stop()


def test_a_dependency_down_is_unavailable_from_the_api(
    jobs_without_auth: str, client: workq.Client
) -> None:
    # Given a real token, sent to a jobs service that cannot ask the auth service about it
    cut_off = workq.Client(jobs_without_auth, token=client.token)
    # When a job is submitted
    with cut_off, pytest.raises(workq.Unavailable) as unavailable:
        cut_off.submit("Fibonacci", {"iterations": 1})
    # Then the API answered UNAVAILABLE, which is not "unreachable"
    assert not isinstance(unavailable.value, workq.Unreachable)
    assert unavailable.value.code == "UNAVAILABLE"


class NotWorkq(BaseHTTPRequestHandler):
    """A real HTTP server that is not Workq: error pages as proxies send them, or no answer.

    The path says what to do: ``/502``, ``/500``, ``/404`` answer that status
    with HTML; ``/drop`` closes the connection unanswered; ``/slow`` answers late.
    """

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        what = self.path.strip("/")
        if what == "drop":
            return
        if what == "slow":
            time.sleep(2)
            what = "200"
        body = b"<html><body>not here</body></html>"
        self.send_response(int(what))
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read the client's errors, not the server's log."""


@pytest.fixture(scope="module")
def not_workq() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotWorkq)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "error", "says"),
    [
        ("502", workq.Unavailable, "answered HTTP 502 Bad Gateway; try again later"),
        ("500", workq.ServerError, "answered HTTP 500 Internal Server Error"),
        ("404", workq.WorkqClientError, "answered HTTP 404 Not Found, which is not a Workq"),
        ("drop", workq.Unavailable, "gave no complete answer"),
    ],
)
def test_answers_that_are_not_the_apis_name_the_url(
    not_workq: str, path: str, error: type[workq.WorkqClientError], says: str
) -> None:
    url = f"{not_workq}/{path}"
    with workq.Client(url, token="any") as client, pytest.raises(error) as failed:
        client.job("00000000-0000-4000-8000-000000000000")
    assert type(failed.value) is error
    assert str(failed.value).startswith(url) and says in str(failed.value)


def test_a_slow_answer_is_unavailable_after_the_request_timeout(not_workq: str) -> None:
    url = f"{not_workq}/slow"
    with (
        workq.Client(url, token="any", timeout_s=0.3) as client,
        pytest.raises(workq.Unavailable) as late,
    ):
        client.job("00000000-0000-4000-8000-000000000000")
    assert str(late.value).startswith(f"{url} did not answer in time")


def test_importing_the_client_loads_none_of_the_server() -> None:
    probe = (
        "import json, sys, workq; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout))
    assert {"workq", "httpx"} <= loaded
    assert not {m for m in loaded if m.startswith("workq_")}
    assert not {"graphql", "falcon", "peewee", "pulsar", "grpc", "pluggy"} & loaded
