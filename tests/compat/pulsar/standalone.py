"""Run a genuine Apache Pulsar standalone broker, assembled from Maven Central, for tests.

pulsar-lite (``plugins/workq_pulsar/broker_process.py``) is what the suite normally
runs; this launcher exists so the same tests and benchmarks can be pointed at the
real thing, to learn where the two differ. It has the same surface as
``BrokerProcess`` (``start``/``stop``/``kill``/``url``/``port``/``pid``) plus
``admin_url``. No Docker and no tarball: ``pom.xml`` beside this file names the
broker's jars, Maven resolves them once, and ``java`` runs
``org.apache.pulsar.PulsarStandaloneStarter`` on them.

Usage by hand: ``python tests/compat/pulsar/standalone.py DIR`` prints the url and
keeps the broker in the foreground until Ctrl-C.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

from tests.support.ports import free_port
from workq_pulsar.broker_process import port_open

POM = Path(__file__).resolve().parent / "pom.xml"
READY_TIMEOUT_S = 120.0
# The broker gives its own graceful shutdown this long; stop() waits a little more.
BROKER_SHUTDOWN_MS = 10_000

# Modest memory: the machine is shared with other tests. Direct memory holds the
# bookie's write/read caches and the broker's entry cache (each a share of it).
JVM_OPTIONS = [
    "-Xms128m",
    "-Xmx512m",
    "-XX:MaxDirectMemorySize=256m",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dpulsar.allocator.exit_on_oom=true",
    # What bin/pulsar passes on Java 17 so Netty, BookKeeper and the metrics can
    # reach JDK internals.
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.platform=ALL-UNNAMED",
    "--add-opens=java.base/sun.net=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.management/sun.management=ALL-UNNAMED",
    "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
]

# Log4j2 writes nothing below ERROR without a configuration; INFO on stdout (the
# log file) is what makes a failed start diagnosable.
_LOG4J2 = """\
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{ISO8601} %-5p [%t] %c{1} - %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
"""


class StandaloneError(RuntimeError):
    """The broker could not be resolved, exited early, or did not become ready."""


def classpath() -> str:
    """The broker's classpath: resolved by ``mvn`` once per pom content, then read from cache.

    The cache sits under ``~/.m2`` next to the jars it names, so wiping the Maven
    repository also wipes the stale classpath. Test processes running side by
    side (pytest-xdist) resolve it one at a time under a file lock, so a fresh
    machine downloads the jars once, not once per process into the same
    repository; the file is written aside and renamed into place, so nobody
    reads half of it.
    """
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:16]
    cache = Path.home() / ".m2" / "workq-pulsar-compat" / f"classpath-{digest}.txt"
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.with_name("resolve.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not cache.exists():
            _resolve_classpath(cache)
    return cache.read_text(encoding="utf-8").strip()


def _resolve_classpath(cache: Path) -> None:
    """Run ``mvn dependency:build-classpath`` into ``cache``; the caller holds the lock."""
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={partial}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise StandaloneError(f"mvn could not resolve {POM}:\n{tail}")
    partial.replace(cache)


def pulsar_version() -> str:
    """The Apache Pulsar release ``pom.xml`` pins."""
    pom = ElementTree.parse(POM)  # noqa: S314 - our own committed file
    found = pom.find("m:properties/m:pulsar.version", {"m": "http://maven.apache.org/POM/4.0.0"})
    if found is None or not found.text:
        raise StandaloneError(f"{POM} names no pulsar.version property")
    return found.text


class PulsarStandalone:
    """A Pulsar standalone broker, one bookie and ZooKeeper, storing data under ``directory``.

    ZooKeeper, not the standalone's default RocksDB metadata store: with RocksDB,
    Pulsar 4.0.7 restarted after a SIGKILL usually gets the bookie's registration
    lock into an endless delete/re-create loop (thousands of log lines a second)
    and new topics then fail with "Not enough non-faulty bookies available".

    Ports are chosen once and saved in ``directory/ports.json``: a restart (by this
    object or a new one on the same directory) reuses them, since clients reconnect
    to the old url and the bookie's identity in its own metadata is its address.
    The config, log4j2 config and log (``pulsar.log``) live in the same directory.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        port: int | None = None,
        http_port: int | None = None,
    ) -> None:
        self.directory = Path(directory).absolute()
        self.port = port
        self.http_port = http_port
        self.bookie_port: int | None = None
        self.zookeeper_port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"pulsar://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def log_path(self) -> Path:
        return self.directory / "pulsar.log"

    def start(self) -> str:
        """Launch the broker and wait until it serves ``public/default``; returns ``url``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._choose_ports()
        config = self.directory / "standalone.conf"
        config.write_text(self._config(), encoding="utf-8")
        log4j2 = self.directory / "log4j2.properties"
        log4j2.write_text(_LOG4J2, encoding="utf-8")
        args = [
            "java",
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={log4j2}",
            "-cp",
            classpath(),
            "org.apache.pulsar.PulsarStandaloneStarter",
            "--config",
            str(config),
            "--no-functions-worker",
            "--no-stream-storage",
            "--zookeeper-port",
            str(self.zookeeper_port),
            "--zookeeper-dir",
            str(self.directory / "zookeeper"),
            "--bookkeeper-port",
            str(self.bookie_port),
            "--bookkeeper-dir",
            str(self.directory / "bookkeeper"),
        ]
        with open(self.log_path, "ab") as log:
            # start_new_session: Ctrl-C in a terminal reaches our process, which
            # then stops the broker in order, rather than both dying at once. The
            # variable picks ZooKeeper metadata (see the class docstring).
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=log,
                cwd=self.directory,
                start_new_session=True,
                env={**os.environ, "PULSAR_STANDALONE_USE_ZOOKEEPER": "1"},
            )
        self._wait_ready()
        return self.url

    def _choose_ports(self) -> None:
        saved_path = self.directory / "ports.json"
        saved = json.loads(saved_path.read_text()) if saved_path.exists() else {}
        self.port = self.port or saved.get("port") or free_port()
        self.http_port = self.http_port or saved.get("http_port") or free_port()
        self.bookie_port = saved.get("bookie_port") or free_port()
        self.zookeeper_port = saved.get("zookeeper_port") or free_port()
        ports = {
            "port": self.port,
            "http_port": self.http_port,
            "bookie_port": self.bookie_port,
            "zookeeper_port": self.zookeeper_port,
        }
        saved_path.write_text(json.dumps(ports), encoding="utf-8")

    def _config(self) -> str:
        """Broker and bookie settings (the standalone bookie reads the same file).

        Pulsar's own conf/standalone.conf values where the ServiceConfiguration
        defaults would not suit one bookie on loopback; everything else is default.
        """
        settings = {
            "clusterName": "standalone",
            "advertisedAddress": "127.0.0.1",
            "bindAddress": "127.0.0.1",
            "brokerServicePort": self.port,
            "webServicePort": self.http_port,
            "managedLedgerDefaultEnsembleSize": 1,
            "managedLedgerDefaultWriteQuorum": 1,
            "managedLedgerDefaultAckQuorum": 1,
            "functionsWorkerEnabled": "false",
            "brokerDeduplicationEnabled": "false",
            "brokerShutdownTimeoutMs": BROKER_SHUTDOWN_MS,
            "loadManagerClassName": "org.apache.pulsar.broker.loadbalance.NoopLoadManager",
            "loadBalancerEnabled": "false",
            # Bookie: identified by, and bound to, the loopback address; the disk is shared.
            "allowLoopback": "true",
            "listeningInterface": "lo",
            "journalSyncData": "false",
            "diskUsageThreshold": 0.99,
            "diskUsageWarnThreshold": 0.99,
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StandaloneError(
                    f"Pulsar exited with code {self.process.returncode} before it was ready; "
                    f"{self._log_tail()}"
                )
            if self._serves_default_namespace() and port_open(self.port or 0):
                return
            time.sleep(0.2)
        self.kill()
        raise StandaloneError(
            f"Pulsar was not ready within {READY_TIMEOUT_S:.0f}s; {self._log_tail()}"
        )

    def _serves_default_namespace(self) -> bool:
        """The standalone starter creates ``public/default`` last, once the broker is up."""
        try:
            with urllib.request.urlopen(  # noqa: S310 - our own loopback http url
                f"{self.admin_url}/admin/v2/namespaces/public", timeout=2
            ) as response:
                return "public/default" in json.load(response)
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def _log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"last lines of {self.log_path}:\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = BROKER_SHUTDOWN_MS / 1000 + 5) -> None:
        """SIGTERM: the broker closes topics and ledgers in order; kill if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL, as a crash would; for tests of recovery."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="data, config and log directory")
    parser.add_argument("--port", type=int, help="binary protocol port (default: free)")
    parser.add_argument("--http-port", type=int, help="admin/web port (default: free)")
    args = parser.parse_args()
    broker = PulsarStandalone(args.directory, args.port, args.http_port)
    started = time.monotonic()
    broker.start()
    print(
        f"{broker.url} {broker.admin_url} pid={broker.pid} "
        f"ready in {time.monotonic() - started:.1f}s (Ctrl-C stops)",
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        assert broker.process is not None
        broker.process.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
