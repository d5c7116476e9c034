"""The TCP fault proxy against a real echo server on loopback: forwarding and each fault."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.fault_proxy import FIN, RST, FaultProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[0], server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(echo) -> Iterator[FaultProxy]:
    with FaultProxy(echo) as proxy:
        yield proxy


def client(proxy: FaultProxy, timeout_s: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout_s)


def receive(sock: socket.socket, size: int) -> bytes:
    received = b""
    while len(received) < size and (chunk := sock.recv(65536)):
        received += chunk
    return received


def round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return receive(sock, len(payload))


def test_forwards_both_ways_many_connections(proxy):
    payload = bytes(range(256)) * 1024  # 256 KiB: several chunks each way
    socks = [client(proxy) for _ in range(5)]
    for sock in socks:
        assert round_trip(sock, payload) == payload
    assert proxy.accepted == 5
    for sock in socks:
        sock.close()


def test_delay_holds_each_direction_and_heal_removes_it(proxy):
    with client(proxy) as sock:
        proxy.delay(300)
        started = time.monotonic()
        assert round_trip(sock, b"ping") == b"ping"
        assert time.monotonic() - started >= 0.55  # 300 ms there and 300 ms back
        proxy.heal()
        assert round_trip(sock, b"pong") == b"pong"


def test_drop_with_rst_resets_open_connections_and_new_ones_still_work(proxy):
    sock = client(proxy)
    assert round_trip(sock, b"a") == b"a"
    assert proxy.drop(RST) == 1
    with pytest.raises(ConnectionResetError):
        sock.recv(10)
        sock.sendall(b"b")  # the reset may surface on the next call rather than the read
        sock.recv(10)
    sock.close()
    with client(proxy) as again:
        assert round_trip(again, b"c") == b"c"


def test_drop_with_fin_closes_open_connections_orderly(proxy):
    with client(proxy) as sock:
        assert round_trip(sock, b"a") == b"a"
        assert proxy.drop(FIN) == 1
        assert sock.recv(10) == b""


def test_drop_rejects_an_unknown_mode(proxy):
    with pytest.raises(ValueError, match="how must be 'rst' or 'fin'"):
        proxy.drop("slam")


def test_stall_forwards_nothing_closes_nothing_then_heal_delivers(proxy):
    with client(proxy, timeout_s=0.5) as sock:
        assert round_trip(sock, b"a") == b"a"
        proxy.stall()
        sock.sendall(b"held")
        with pytest.raises(TimeoutError):
            sock.recv(10)
        late = client(proxy, timeout_s=0.5)  # a new connection is accepted, and hangs too
        late.sendall(b"late")
        with pytest.raises(TimeoutError):
            late.recv(10)
        assert proxy.open_connections == 2
        proxy.heal()
        sock.settimeout(5)
        late.settimeout(5)
        assert sock.recv(10) == b"held"
        assert late.recv(10) == b"late"
        late.close()


def test_refuse_keeps_open_connections_and_heal_listens_on_the_same_port(proxy):
    port = proxy.port
    with client(proxy) as sock:
        assert round_trip(sock, b"open") == b"open"  # established through to the target
        proxy.refuse()
        with pytest.raises(ConnectionRefusedError):
            client(proxy)
        assert round_trip(sock, b"still") == b"still"
    proxy.heal()
    assert proxy.port == port
    with client(proxy) as again:
        assert round_trip(again, b"back") == b"back"


def test_a_target_that_is_down_resets_the_client():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead = placeholder.getsockname()  # nobody listens there once closed
    # the reset may come while the connect completes or at the first read: either is a reset
    with FaultProxy(dead) as proxy, pytest.raises(ConnectionResetError), client(proxy) as sock:
        sock.recv(10)


def frame(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


def test_rewrite_replaces_inside_the_frames_the_target_sends_also_across_reads(proxy):
    proxy.rewrite(b"127.0.0.1:11111", b"127.0.0.1:22222")
    with client(proxy) as sock:
        # Given one frame whole, then one that reaches the echo (and comes back) in two pieces
        whole, split = frame(b"at 127.0.0.1:11111 now"), frame(b"split 127.0.0.1:11111 end")
        assert round_trip(sock, whole) == frame(b"at 127.0.0.1:22222 now")
        sock.sendall(split[:12])
        time.sleep(0.1)
        sock.sendall(split[12:])
        # Then both come back rewritten
        assert receive(sock, len(split)) == frame(b"split 127.0.0.1:22222 end")


def test_rewrite_needs_the_same_length(proxy):
    with pytest.raises(ValueError, match="same, non-zero length"):
        proxy.rewrite(b"127.0.0.1:1", b"127.0.0.1:22")
