"""Run one pulsar-lite broker binary: launch on a port, wait until ready, stop."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from pathlib import Path

from pulsar_lite.binary_finder import find_pulsar_lite_binary

from workq_core import TransportError

logger = logging.getLogger(__name__)

# The broker's Prometheus endpoint binds 0.0.0.0:8080 by default, which
# collides between brokers and exposes a port nobody asked for.
_CONFIG = "[metrics]\nenabled = false\n"
READY_TIMEOUT_S = 10.0


def free_port() -> int:
    """A loopback port that was free a moment ago (the caller retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, timeout_s: float = 0.25) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s):
            return True
    except OSError:
        return False


class BrokerProcess:
    """A pulsar-lite broker on ``127.0.0.1:port`` storing its data under ``directory``.

    The log (``pulsar-lite.log``) and the broker's config file live in the same
    directory, so nothing is written to /tmp or the working directory.
    """

    def __init__(self, directory: str | os.PathLike[str], port: int | None = None) -> None:
        self.directory = Path(directory).absolute()
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"pulsar://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> str:
        """Launch the broker; a fresh free port is tried again if another took it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "pulsar-lite.toml").write_text(_CONFIG, encoding="utf-8")
        attempts = 1 if self.port else 3
        for attempt in range(attempts):
            port = self.port or free_port()
            try:
                self._launch(port)
                self.port = port
                return self.url
            except TransportError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _launch(self, port: int) -> None:
        binary = find_pulsar_lite_binary()
        args = [binary, "--config", str(self.directory / "pulsar-lite.toml")]
        args += ["--addr", f"127.0.0.1:{port}", "--db-path", str(self.directory / "data")]
        args += ["--log-level", "warn"]
        with open(self.directory / "pulsar-lite.log", "ab") as log:
            # start_new_session: Ctrl-C in a terminal reaches our process, which
            # then stops the broker in order, rather than both dying at once.
            self.process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
                args, stdout=log, stderr=log, cwd=self.directory, start_new_session=True
            )
        self._wait_ready(port)
        logger.info("pulsar-lite broker started", extra={"port": port, "pid": self.process.pid})

    def _wait_ready(self, port: int) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TransportError(
                    f"pulsar-lite exited with code {self.process.returncode} before listening on "
                    f"port {port}; see {self.directory / 'pulsar-lite.log'}"
                )
            if port_open(port):
                return
            time.sleep(0.02)
        self.stop()
        raise TransportError(f"pulsar-lite did not listen on port {port} within {READY_TIMEOUT_S}s")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate gracefully (the broker flushes its store), kill if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        logger.info("pulsar-lite broker stopped", extra={"port": self.port})

    def kill(self) -> None:
        """SIGKILL, as a crash would; for tests of recovery."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
