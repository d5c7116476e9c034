"""The ``[pulsar]`` configuration section, owned and validated by this plugin."""

from __future__ import annotations

import re
from dataclasses import dataclass

from workq_core import ConfigError, setting

EMBEDDED = "embedded"
_URL_SCHEMES = ("pulsar://", "pulsar+ssl://")
# Pulsar's rule for tenant, namespace and subscription names.
_NAME = re.compile(r"^[-=:.\w]+$")


@dataclass(frozen=True)
class PulsarSettings:
    """Section ``[pulsar]``: where the broker is and how executors consume.

    The pulsar-client defaults suit streaming, not a job queue; these are
    chosen so that work spreads over executors and nothing is skipped.
    """

    service_url: str = setting(
        EMBEDDED,
        "pulsar://HOST:PORT of the broker, or `embedded` to start (or attach to) a "
        "pulsar-lite broker whose data lives under core.data_dir/broker",
        env="PULSAR_SERVICE_URL",
    )
    tenant: str = setting("public", "tenant of the job topics")
    namespace: str = setting("default", "namespace of the job topics")
    subscription: str = setting(
        "workq-executors", "shared subscription executors consume from (also on the DLQ topics)"
    )
    receiver_queue_size: int = setting(
        100,
        "messages each consumer prefetches: enough to fill every thread's batch of fast items, "
        "few enough that a stalled executor holds little",
        min=1,
        max=100_000,
    )
    operation_timeout_s: int = setting(
        10, "pulsar-client operation timeout (lookups, subscribe, create producer), seconds", min=1
    )
    send_timeout_ms: int = setting(
        30_000, "how long a publish waits for the broker's confirmation, milliseconds", min=100
    )
    nack_delay_ms: int = setting(
        1000,
        "delay before a negatively acknowledged message is redelivered, milliseconds "
        "(pulsar-client's default is a minute)",
        min=0,
    )
    lite_shim: bool | None = setting(
        None,
        "apply the pulsar-lite shims: consumer ids so several processes can share a "
        "subscription, and a new consumer in place of one the broker stopped dispatching "
        "to; auto = on when service_url is `embedded`",
    )

    def __post_init__(self) -> None:
        url = self.service_url.strip()
        if url != EMBEDDED and not url.startswith(_URL_SCHEMES):
            raise ConfigError(
                f"pulsar.service_url: expected `embedded` or a pulsar:// or pulsar+ssl:// URL, "
                f"got {self.service_url!r}"
            )
        for key in ("tenant", "namespace", "subscription"):
            value = getattr(self, key)
            if not _NAME.match(value):
                raise ConfigError(
                    f"pulsar.{key}: expected a non-empty name of letters, digits and -_=:., "
                    f"got {value!r}"
                )

    @property
    def embedded(self) -> bool:
        return self.service_url.strip() == EMBEDDED

    @property
    def shim_enabled(self) -> bool:
        """Whether the pulsar-lite consumer-id shim applies (auto: when embedded)."""
        return self.embedded if self.lite_shim is None else self.lite_shim
