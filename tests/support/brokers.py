"""The two Pulsar-protocol brokers the suite runs on: pulsar-lite and genuine Apache Pulsar.

Tests take the ``broker`` fixture (tests/conftest.py), parametrised over
:data:`KINDS`, and ask it for what differs between the two: the URL, whether
the pulsar-lite consumer-id shim applies (never on genuine Pulsar), a fresh
namespace (genuine Pulsar creates topics on first use but not namespaces),
and a crash-and-restart on the same address and data.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.compat.pulsar.standalone import PulsarStandalone
from tests.support.ports import free_port
from workq_pulsar import PulsarSettings
from workq_pulsar.broker_process import BrokerProcess

LITE = "pulsar-lite"
GENUINE = "pulsar"
KINDS = [LITE, GENUINE]
TENANT = "public"


@dataclass
class TestBroker:
    """One running broker of either kind, with the knobs tests need."""

    __test__ = False  # not a test class, despite its name

    kind: str
    process: BrokerProcess | PulsarStandalone

    @classmethod
    def start(cls, kind: str, directory: Path) -> TestBroker:
        # a port of this test process's own range, kept across crash_and_restart
        process = (
            BrokerProcess(directory, port=free_port())
            if kind == LITE
            else PulsarStandalone(directory)
        )
        process.start()
        return cls(kind, process)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def genuine(self) -> bool:
        return self.kind == GENUINE

    @property
    def shim(self) -> bool:
        """The pulsar-lite consumer-id shim: needed on pulsar-lite only, off on genuine Pulsar."""
        return not self.genuine

    def new_namespace(self) -> str:
        """A namespace under ``public`` no other test uses (created first on genuine Pulsar)."""
        name = f"t{secrets.token_hex(6)}"
        if isinstance(self.process, PulsarStandalone):
            url = f"{self.process.admin_url}/admin/v2/namespaces/{TENANT}/{name}"
            body = json.dumps({}).encode()
            request = urllib.request.Request(url, body, method="PUT")  # noqa: S310 - loopback
            request.add_header("Content-Type", "application/json")
            urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 - loopback
        return name

    def settings(self, **overrides: Any) -> PulsarSettings:
        """Transport settings for a test: this broker, its shim choice, short timeouts."""
        values: dict[str, Any] = {
            "service_url": self.url,
            "lite_shim": self.shim,
            "operation_timeout_s": 5 if not self.genuine else 15,
            "send_timeout_ms": 5000,
            "nack_delay_ms": 100,
        }
        values.update(overrides)
        return PulsarSettings(**values)

    def env(self) -> dict[str, str]:
        """The same choices as ``WORKQ_*`` variables, for services in other processes."""
        return {
            "PULSAR_SERVICE_URL": self.url,
            "WORKQ_PULSAR_LITE_SHIM": "true" if self.shim else "false",
            "WORKQ_PULSAR_NAMESPACE": self.new_namespace(),
        }

    def crash_and_restart(self) -> None:
        """SIGKILL the broker and start it again on the same port and data."""
        self.process.kill()
        self.process.start()

    def stop(self) -> None:
        self.process.stop()
