"""uvicorn serving an ASGI app on a socket bound here, on a thread, started and stopped in code."""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import socket
import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from workq_core.config import HttpSettings
from workq_core.errors import ConfigError

logger = logging.getLogger(__name__)

BACKLOG = 1024


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose headers do not arrive in time.

    uvicorn times out idle keep-alive connections but not one that sent part
    of a request and then stalls (slowloris); this arms a timer when the
    connection opens and when each request begins, and disarms it once the
    headers are complete.
    """

    def __init__(self, *args: Any, header_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """A client that half-closes after its request still gets the answer, then a close."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
            return True  # keep the transport open for the response
        return None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        super().on_headers_complete()

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self._header_timeout_s, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            logger.debug("http headers timed out", extra={"client": (self.client or ("",))[0]})
            self.transport.close()


class HttpServer:
    """One listening uvicorn server on its own thread; ``port`` is the bound port (0 picks one).

    The socket is bound here, before the thread starts, so a port in use is a
    start-up ``ConfigError`` and port 0 reports the port it got. With
    ``reuse_port`` several processes bind the same port and the kernel spreads
    connections over them (``--workers``).
    """

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        settings: HttpSettings | None = None,
        setting: str = "port",
        reuse_port: bool = False,
    ) -> None:
        settings = settings or HttpSettings()
        self._sock = listen(host, port, setting, reuse_port=reuse_port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self.settings = settings
        config = uvicorn.Config(
            app,
            http=functools.partial(
                HeaderTimeoutProtocol, header_timeout_s=settings.header_timeout_s
            ),  # type: ignore[arg-type]
            ws="websockets-sansio",
            lifespan="on",
            interface="asgi3",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,  # client addresses (login limits) never come from headers
            timeout_keep_alive=settings.keep_alive_s,  # type: ignore[arg-type]
            timeout_graceful_shutdown=settings.shutdown_grace_s,  # type: ignore[arg-type]
            backlog=BACKLOG,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"http-{self.port}", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException:
            logger.error("http server failed", exc_info=True, extra={"port": self.port})

    def start(self) -> HttpServer:
        """Serve; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"http server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (up to the grace), close the socket."""
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=self.settings.shutdown_grace_s + 5)
        self._sock.close()


def listen(host: str, port: int, setting: str, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port``, or a ``ConfigError`` naming ``setting``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise bind_error(setting, host, port, exc) from None
    sock.setblocking(False)
    return sock


def bind_error(setting: str, host: str, port: int, exc: OSError) -> ConfigError:
    """A one-line start-up error naming the address and the setting that chose it."""
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"{setting}: {host}:{port} is already in use")
    return ConfigError(f"{setting}: cannot listen on {host}:{port}: {exc.strerror or exc}")
