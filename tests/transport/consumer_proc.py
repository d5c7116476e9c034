"""A consumer process for the multi-process tests: prints how many messages it got."""

from __future__ import annotations

import json
import sys
import time

from workq_core import TransportError
from workq_pulsar import PulsarSettings, PulsarTransport


def main(url: str, job_type: str, shim: str, seconds: str, timeout_s: str) -> None:
    settings = PulsarSettings(
        service_url=url,
        lite_shim=shim == "true",
        operation_timeout_s=int(timeout_s),
        send_timeout_ms=5000,
        # Fewer than the 40 messages the test publishes, so the broker must spread
        # them: with the default 100 one consumer may rightly take all 40 at once.
        receiver_queue_size=10,
    )
    transport = PulsarTransport(settings, ".")
    started = time.monotonic()
    try:
        receiver = transport.subscribe([job_type])
    except TransportError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return
    subscribed_s = time.monotonic() - started
    print(json.dumps({"subscribed_s": round(subscribed_s, 3)}), flush=True)
    got: list[str] = []
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        delivery = receiver.receive(0.2)
        if delivery is not None:
            time.sleep(0.02)  # a slow worker, so the broker must spread the work
            got.append(delivery.payload.decode())
            receiver.ack(delivery)
    print(json.dumps({"got": got}), flush=True)
    transport.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
