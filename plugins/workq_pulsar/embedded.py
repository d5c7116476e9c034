"""One pulsar-lite broker per data directory, shared by every process that uses it.

Start-or-attach: under an ``fcntl`` lock in ``<data_dir>/broker``, a process
reads ``broker.json`` (pid and port). If that broker is alive it attaches to
it; otherwise (no record, or a stale one whose pid is dead) it starts a new
broker and writes the record.

Lifetime rule: a broker lives as long as the process that started it. That
process stops it on :meth:`EmbeddedBroker.stop` (the transport's ``close``)
or at interpreter exit; processes that merely attached never stop it, and
lose their broker when its starter exits. So start the longest-lived process
first: ``workq up`` starts one ``EmbeddedBroker`` itself and hands its URL to
the services it spawns (with ``WORKQ_PULSAR_LITE_SHIM=true``). If the starter
is killed with SIGKILL the broker keeps running and the next start attaches
to it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from workq_pulsar.broker_process import BrokerProcess, port_open

logger = logging.getLogger(__name__)

RECORD = "broker.json"
LOCK = "broker.lock"


class EmbeddedBroker:
    """The pulsar-lite broker of ``<data_dir>/broker``: ``start()`` returns its URL."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.directory = Path(data_dir).absolute() / "broker"
        self._process: BrokerProcess | None = None
        self.url: str | None = None

    @property
    def owned(self) -> bool:
        """True when this object started the broker (and so will stop it)."""
        return self._process is not None

    def start(self) -> str:
        """Attach to the live broker of this data dir, or start one; returns its URL."""
        if self.url is not None:
            return self.url
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._locked():
            record = self._read_record()
            if record is not None and _alive(record, self.directory):
                self.url = f"pulsar://127.0.0.1:{record['port']}"
                logger.info("attached to pulsar-lite broker", extra=record)
                return self.url
            process = BrokerProcess(self.directory)
            self.url = process.start()
            self._process = process
            self._write_record({"pid": process.pid, "port": process.port})
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        """Stop the broker if this object started it; attached users do nothing."""
        process, self._process = self._process, None
        if process is None:
            return
        with self._locked():
            record = self._read_record()
            if record is not None and record.get("pid") == process.pid:
                (self.directory / RECORD).unlink(missing_ok=True)
            process.stop()
        atexit.unregister(self.stop)
        self.url = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.directory / LOCK, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_record(self) -> dict[str, int] | None:
        try:
            data = json.loads((self.directory / RECORD).read_text(encoding="utf-8"))
            return {"pid": int(data["pid"]), "port": int(data["port"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_record(self, record: dict[str, int | None]) -> None:
        path = self.directory / RECORD
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        tmp.replace(path)


def _alive(record: dict[str, int], directory: Path) -> bool:
    """The recorded pid is still our broker (not a reused pid) and it accepts connections."""
    try:
        cmdline = Path(f"/proc/{record['pid']}/cmdline").read_bytes()
    except OSError:
        return False
    if str(directory / "data").encode() not in cmdline:
        return False
    return port_open(record["port"])
