"""A threaded WSGI server from the standard library, started and stopped from code."""

from __future__ import annotations

import errno
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from workq_core.errors import ConfigError

logger = logging.getLogger(__name__)

# A client that stops sending mid-request frees its thread after this long.
REQUEST_TIMEOUT_S = 30


# Requests run on a fixed pool of threads: no thread start per request, and
# per-thread resources (SQLite connections) are reused instead of reopened.
REQUEST_THREADS = 32


class _ThreadingWSGIServer(WSGIServer):
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before the base class binds: a failed bind calls server_close().
        self._pool = ThreadPoolExecutor(REQUEST_THREADS, thread_name_prefix="http")
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._handle, request, client_address)

    def _handle(self, request: Any, client_address: Any) -> None:
        """What socketserver.ThreadingMixIn does per request, on a pooled thread."""
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class _QuietHandler(WSGIRequestHandler):
    """Access lines go to the logger at DEBUG, not to stderr."""

    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http request", extra={"client": self.client_address[0], "line": args[:2]})


class HttpServer:
    """One listening WSGI server on its own thread; ``port`` is the bound port (0 picks one).

    The standard library keeps dependencies at zero; run it behind a reverse
    proxy (TLS, keep-alive) in production.
    """

    def __init__(self, app: Any, host: str, port: int, *, setting: str = "port") -> None:
        try:
            self._server = make_server(
                host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
            )
        except OSError as exc:
            raise bind_error(setting, host, port, exc) from None
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"http-{self.port}", daemon=True
        )

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, let the serve loop finish, close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def bind_error(setting: str, host: str, port: int, exc: OSError) -> ConfigError:
    """A one-line start-up error naming the address and the setting that chose it."""
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"{setting}: {host}:{port} is already in use")
    return ConfigError(f"{setting}: cannot listen on {host}:{port}: {exc.strerror or exc}")
