"""Compare HTTP servers for Workq's edge: throughput, half-open starvation, features.

    pip install -r bench/requirements.txt; apt-get install wrk
    python bench/http_servers.py            # all candidates, one after another
    python bench/http_servers.py uvicorn    # only the named ones

Each candidate serves the same trivial falcon app (WSGI or ASGI, as the
server needs) from a child process on a loopback port, one worker. Then:

- requests/s: wrk, 8 keep-alive connections, 2 threads, 3 s, median of 3
  runs (a Python keep-alive client is used when wrk is not installed);
- half-open: 200 connections each send a request line and then nothing,
  and one normal request is timed on a fresh connection (10 s cap).

The feature columns are what each server's documentation promises, checked
against the installed versions; docs/http-server.md has the figures.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import falcon
import falcon.asgi

BODY = b'{"data":{"ok":true}}'
CLIENTS = 8
RUNS = 3
DURATION_S = 3
HALF_OPEN = 200


class _Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = BODY


class _AsyncHello:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = BODY


wsgi_app = falcon.App()
wsgi_app.add_route("/graphql", _Hello())
asgi_app = falcon.asgi.App()
asgi_app.add_route("/graphql", _AsyncHello())


def _serve_wsgiref(port: int) -> None:
    """What Workq used before: wsgiref's server with requests on a pool of 32 threads."""
    from concurrent.futures import ThreadPoolExecutor
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    pool = ThreadPoolExecutor(32)

    class Server(WSGIServer):
        request_queue_size = 128

        def process_request(self, request: Any, client_address: Any) -> None:
            pool.submit(self._handle, request, client_address)

        def _handle(self, request: Any, client_address: Any) -> None:
            # A client that timed out raises here; keep the output readable.
            with contextlib.suppress(Exception):
                self.finish_request(request, client_address)
            self.shutdown_request(request)

    class Quiet(WSGIRequestHandler):
        timeout = 30

        def log_message(self, *args: Any) -> None:
            pass

    make_server("127.0.0.1", port, wsgi_app, Server, Quiet).serve_forever()


def _serve_workq(port: int) -> None:
    """Workq's HttpServer: uvicorn plus its header timeout, on a thread."""
    from workq_core.web import HttpServer

    server = HttpServer(asgi_app, "127.0.0.1", port).start()
    server._thread.join()


def _serve_cheroot(port: int) -> None:
    from cheroot.wsgi import Server

    Server(("127.0.0.1", port), wsgi_app, numthreads=32).start()


def _serve_waitress(port: int) -> None:
    import waitress

    waitress.serve(wsgi_app, host="127.0.0.1", port=port, threads=32, _quiet=True)


def _serve_uvicorn(port: int) -> None:
    import uvicorn

    uvicorn.run(asgi_app, host="127.0.0.1", port=port, log_level="warning")


def _serve_hypercorn(port: int) -> None:
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "WARNING"
    asyncio.run(serve(asgi_app, config))  # type: ignore[arg-type]


def _granian_command(interface: str, port: int) -> list[str]:
    target = "bench.http_servers:" + ("asgi_app" if interface == "asgi" else "wsgi_app")
    return [sys.executable, "-m", "granian", "--interface", interface, "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--log-level", "warning", target]  # fmt: skip


SERVE = {
    "wsgiref": _serve_wsgiref,
    "cheroot": _serve_cheroot,
    "waitress": _serve_waitress,
    "uvicorn": _serve_uvicorn,
    "hypercorn": _serve_hypercorn,
    "workq": _serve_workq,
}

# Columns: websockets, header timeout, body timeout, graceful drain, own workers, from code.
# "per read" is an idle timeout on each socket read, not a limit on the whole headers or body.
FEATURES = {
    "wsgiref": ("no", "per read", "per read", "no", "no", "yes"),
    "cheroot": ("no", "per read", "per read", "yes", "no (threads)", "yes"),
    "waitress": ("no", "channel idle", "channel idle", "no", "no (threads)", "yes"),
    "uvicorn": ("yes", "no (idle keep-alive only)", "no", "yes", "import string", "yes, sockets="),
    "hypercorn": ("yes", "per read", "per read", "yes", "import string", "yes"),
    "granian-wsgi": ("no", "yes", "no", "not checked", "import string", "import string"),
    "granian-asgi": ("yes", "yes", "no", "not checked", "import string", "import string"),
    "workq": ("yes", "yes", "yes (in the app)", "yes", "--workers", "yes"),
}
CANDIDATES = list(FEATURES)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(name: str, port: int) -> subprocess.Popen[bytes]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if name.startswith("granian-"):
        command = _granian_command(name.split("-")[1], port)
    else:
        command = [sys.executable, "-m", "bench.http_servers", "--serve", name, str(port)]
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if _get(port, timeout=1) is not None:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{name} did not start")


def _get(port: int, timeout: float) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/graphql")
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _rate_wrk(port: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CLIENTS}", f"-d{DURATION_S}s", f"http://127.0.0.1:{port}/graphql"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def _rate_python(port: int) -> float:
    counts = [0] * CLIENTS
    stop = time.monotonic() + DURATION_S

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            conn.request("GET", "/graphql")
            conn.getresponse().read()
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / DURATION_S


def _half_open(port: int) -> str:
    """Seconds one request takes while HALF_OPEN connections sit after their request line."""
    idle = []
    try:
        for _ in range(HALF_OPEN):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /graphql HTTP/1.1\r\n")
            idle.append(sock)
        time.sleep(0.5)
        started = time.monotonic()
        try:
            _get(port, timeout=10)
        except OSError:
            return "no answer in 10 s"
        return f"{time.monotonic() - started:.3f} s"
    finally:
        for sock in idle:
            sock.close()


def measure(name: str) -> tuple[float, str]:
    port = _free_port()
    proc = _start(name, port)
    try:
        rate = _rate_wrk if shutil.which("wrk") else _rate_python
        rates = [rate(port) for _ in range(RUNS)]
        return statistics.median(rates), _half_open(port)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(names: list[str]) -> None:
    client = "wrk -t2 -c8" if shutil.which("wrk") else "python http.client x8"
    python = sys.version.split()[0]
    print(f"{os.cpu_count()} cores, Python {python}, load: {client}, {DURATION_S} s x {RUNS}")
    head = ("server", "req/s (median)", "1 request, 200 half-open", "websockets", "header timeout",
            "body timeout", "graceful drain", "workers", "start from code")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for name in names:
        rate, half_open = measure(name)
        row = (name, f"{rate:,.0f}", half_open, *FEATURES[name])
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        SERVE[sys.argv[2]](int(sys.argv[3]))
    else:
        main(sys.argv[1:] or CANDIDATES)
