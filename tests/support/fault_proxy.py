"""A TCP fault proxy on loopback: forwards to one target and breaks the link on command.

The network-fault scenarios (tests/fault/test_network.py) put one between
the services and PostgreSQL, the broker or the auth service. Faults apply at
runtime, from the test's thread, and last until :meth:`FaultProxy.heal`:

- :meth:`~FaultProxy.delay`: every chunk in both directions arrives
  ``ms`` later (a delay line: throughput is kept, order too);
- :meth:`~FaultProxy.drop`: every open connection is cut at once, with a
  reset (RST) or an orderly close (FIN), whatever is in flight;
- :meth:`~FaultProxy.stall`: nothing is forwarded any more, nothing is
  closed (open connections and new ones just hang, as behind a frozen peer);
- :meth:`~FaultProxy.refuse`: the listening socket is closed, so new
  connections are refused; open ones carry on.

:meth:`~FaultProxy.rewrite` substitutes bytes in what the target sends, for
protocols that tell clients where to connect next: a Pulsar broker's lookup
answer names its own address, and without the rewrite the clients' topic
connections would go around the proxy straight to the broker. It works on
whole length-prefixed frames (Pulsar's: a 4-byte big-endian size first), so
a pattern split across reads is still found, without guessing at timing.

It lives in tests/support rather than workq_core/testing because nothing in
the product or in a plugin author's kit needs it; it depends on nothing but
asyncio. One event loop on a daemon thread serves every connection.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Coroutine
from typing import Any

CHUNK = 65536
RST = "rst"
FIN = "fin"


class FaultProxy:
    """``FaultProxy(("127.0.0.1", 5432)).start()``; clients connect to ``proxy.port``."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.port = port
        self.accepted = 0  # connections accepted since start, for tests and reports
        self._latency_s = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._links: set[_Link] = set()
        self._replies: dict[bytes, bytes] = {}

    # ---- lifecycle (any thread) ------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._init())
        return self

    def stop(self) -> None:
        """Close the listener and every connection (FIN), then the loop."""
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- faults (any thread) -----------------------------------------------------

    def delay(self, ms: float) -> None:
        """Hold every chunk ``ms`` before forwarding it, both ways, from now on."""
        self._latency_s = ms / 1000

    def drop(self, how: str = RST) -> int:
        """Cut every open connection with RST or FIN; how many were cut."""
        if how not in (RST, FIN):
            raise ValueError(f"drop: how must be {RST!r} or {FIN!r}, not {how!r}")
        return int(self._call(self._drop(how)))

    def stall(self) -> None:
        """Stop forwarding in both directions without closing anything."""
        self._call(self._set_flowing(False))

    def refuse(self) -> None:
        """Refuse new connections (listener closed); open ones are left alone."""
        self._call(self._close_listener())

    def heal(self) -> None:
        """No latency, forwarding again, listening again on the same port."""
        self._latency_s = 0.0
        self._call(self._set_flowing(True))
        self._call(self._listen())

    def rewrite(self, old: bytes, new: bytes) -> None:
        """In the frames the target sends on connections opened from now on, replace ``old``.

        Same length only, so frame and field lengths stay right.
        """
        if len(old) != len(new) or not old:
            raise ValueError(f"rewrite: {old!r} and {new!r} must have the same, non-zero length")
        self._replies[old] = new

    @property
    def open_connections(self) -> int:
        return len(self._links)

    # ---- on the loop -------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _init(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        await self._listen()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _shutdown(self) -> None:
        """Everything closed and every task of the loop finished, so none outlives it."""
        await self._close_listener()
        await self._drop(FIN)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _set_flowing(self, flowing: bool) -> None:
        assert self._flowing is not None
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _drop(self, how: str) -> int:
        links = list(self._links)
        for link in links:
            link.cut(how)
        return len(links)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        assert self._flowing is not None
        link = _Link(writer)
        self._links.add(link)
        try:
            await self._flowing.wait()  # a stall holds new connections too
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                link.cut(RST)  # the target is down: the client sees its connection reset
                return
            link.writers.append(up_writer)
            await asyncio.gather(
                self._pump(reader, up_writer, link, None),
                self._pump(up_reader, writer, link, _FrameRewriter(dict(self._replies))),
            )
        finally:
            self._links.discard(link)
            link.cut(FIN)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: _Link,
        rewriter: _FrameRewriter | None,
    ) -> None:
        """Copy one direction through a delay line until EOF or a cut."""
        line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sender = asyncio.ensure_future(self._send(line, writer))
        try:
            while not link.cut_done:
                try:
                    data = await reader.read(CHUNK)
                except OSError:
                    break
                if not data:
                    break
                if rewriter is not None and rewriter.replies:
                    data = rewriter.feed(data)
                if data:
                    line.put_nowait((time.monotonic() + self._latency_s, data))
            line.put_nowait((0.0, b""))  # EOF after what is already in the line
            await sender
        finally:
            sender.cancel()
            link.cut(FIN)

    async def _send(self, line: asyncio.Queue[tuple[float, bytes]], writer: Any) -> None:
        assert self._flowing is not None
        while True:
            due, data = await line.get()
            if not data:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await self._flowing.wait()
            try:
                writer.write(data)
                await writer.drain()
            except OSError:
                return


class _Link:
    """The client's and the target's side of one proxied connection."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.writers = [client]
        self.cut_done = False

    def cut(self, how: str) -> None:
        if self.cut_done:
            return
        self.cut_done = True
        for writer in self.writers:
            if how == RST:
                sock = writer.get_extra_info("socket")
                if sock is not None:  # linger 0: close sends a reset, not a FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()


class _FrameRewriter:
    """Same-length substitutions inside whole length-prefixed frames of one direction."""

    def __init__(self, replies: dict[bytes, bytes]) -> None:
        self.replies = replies
        self.pending = b""

    def feed(self, data: bytes) -> bytes:
        """The frames ``data`` completes, rewritten; a partial frame waits for the rest."""
        self.pending += data
        out = []
        while len(self.pending) >= 4:
            end = 4 + int.from_bytes(self.pending[:4], "big")
            if len(self.pending) < end:
                break
            frame, self.pending = self.pending[:end], self.pending[end:]
            for old, new in self.replies.items():
                frame = frame.replace(old, new)
            out.append(frame)
        return b"".join(out)
