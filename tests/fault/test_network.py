"""Network faults between the services and PostgreSQL, the broker and the auth service.

Each scenario puts a TCP fault proxy (tests/support/fault_proxy.py) on one
link of a real stack and, while a job flows, adds latency, drops every
connection in the middle of whatever is in flight, and stalls the link
without closing it. Then it heals the link, and the stack must recover by
itself: nothing lost, one committed completion per item (``sql`` dedup
store), exact dead letters, and at the API ``UNAVAILABLE`` within the
configured timeouts (never a 500, a leak or a hang) while a dependency
cannot be reached. Short forms run by default, heavy ones under ``-m heavy``;
figures in docs/reliability.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from tests.fault.harness import AUTH_CACHE_S, EXECUTE, JOB_TYPE, Stack, wait_until
from tests.fault.test_scenarios import LEAKS, assert_history_ok, completed, error_code, raw_post
from tests.support.fault_proxy import FIN, RST, FaultProxy

pytestmark = pytest.mark.e2e

DB_TIMEOUT_S = 2.0  # database.timeout_s of every process in the database scenario
AUTH_TIMEOUT_S = 2.0  # jobs.auth_timeout_s (the default)
# broker_poison_every: the short broker form has no poison items, because a cut broker
# link can dead-letter an item twice (docs/reliability.md, Open: issue 17 item 2's
# defect, which would make the default run flaky); the heavy form keeps them.
SHORT = {"items": 120, "cycles": 1, "stall_s": 2.5, "drain_s": 120, "broker_poison_every": 0}
HEAVY = {"items": 2000, "cycles": 4, "stall_s": 15.0, "drain_s": 300, "broker_poison_every": 50}
SCALES = [pytest.param(SHORT, id="short"), pytest.param(HEAVY, id="heavy", marks=pytest.mark.heavy)]


@dataclass
class Probe:
    """One executeJob of one item over HTTP, with its own idempotency key."""

    key: str
    seconds: float
    status: int
    body: str

    @property
    def code(self) -> str | None:
        return error_code(self.body)


class Prober:
    """Submits probes and, once the link is healed, settles each through its key."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.probes: list[Probe] = []

    def probe(self) -> Probe:
        key = f"probe-{len(self.probes)}"
        data = {"name": JOB_TYPE, "data": {"key": "0"}, "idempotencyKey": key}
        started = time.monotonic()
        status, body = raw_post(self.stack, EXECUTE, {"input": data}, self.stack.token)
        found = Probe(key, time.monotonic() - started, status, body)
        self.probes.append(found)
        assert status != 500 and not any(leak in body for leak in LEAKS), body
        return found

    def during(self, seconds: float) -> list[Probe]:
        deadline, found = time.monotonic() + seconds, []
        while time.monotonic() < deadline:
            found.append(self.probe())
            time.sleep(0.2)
        return found

    def recovery_s(self, timeout_s: float = 30) -> float:
        """Seconds from now until a probe is accepted again."""
        started = time.monotonic()
        wait_until(lambda: self.probe().code is None, timeout_s, "the API accepting again", 0.1)
        return time.monotonic() - started

    def settle(self) -> None:
        """Resubmit every probe with its key, as a client would after UNAVAILABLE.

        An UNAVAILABLE answer does not say the job was not stored (the statement may
        have reached the database after the client gave up); the key makes it one job.
        """
        for probe in self.probes:
            self.stack.submit(1, idempotency_key=probe.key, retry=True)


def drop_both_ways(proxy: FaultProxy) -> int:
    """Reset every connection, then close every new one orderly: how many were cut."""
    cut = proxy.drop(RST)
    time.sleep(0.5)
    return cut + proxy.drop(FIN)


@pytest.mark.postgres_only
@pytest.mark.parametrize("scale", SCALES)
def test_database_link_latency_drops_and_stall(make_stack, scale):
    # Given a job flowing, every process reaching PostgreSQL through the proxy
    stack = make_stack(executors=2, proxied=("db",), WORKQ_DATABASE_TIMEOUT_S=str(DB_TIMEOUT_S))
    # Attempts in flight when a link drops cannot commit their outcome, so they run
    # again (at-least-once): the executors count as faulted, as in the outage scenario.
    stack.faulted_pids.update(proc.pid for proc in stack.executors)
    proxy, prober = stack.proxies["db"], Prober(stack)
    stack.submit(scale["items"], poison_every=50, sleep_ms=5)
    wait_until(lambda: completed(stack) > 20, 60, "some progress")
    recoveries, cut = [], 0
    for _ in range(scale["cycles"]):
        # When the link is slow, submissions still go through
        proxy.delay(30)
        assert prober.probe().code is None
        time.sleep(1.0)
        proxy.heal()
        # and when every connection drops mid-transaction, the pools reconnect
        cut += drop_both_ways(proxy)
        # When the link stalls, the API answers UNAVAILABLE within the deadlines
        proxy.stall()
        stalled = prober.during(scale["stall_s"])
        proxy.heal()
        recoveries.append(prober.recovery_s())
        slowest = max(p.seconds for p in stalled)
        print(f"\nstall: {len(stalled)} probes, slowest {slowest:.1f} s; cut {cut}")
        assert {p.code for p in stalled} == {"UNAVAILABLE"}, [p.body for p in stalled]
        assert slowest < 3 * DB_TIMEOUT_S + 1, "a request outlived its database deadlines"
    assert cut >= 2, "no connection was open to cut"
    print(f"recovered {', '.join(f'{r:.2f}' for r in recoveries)} s after healing")
    # Then, healed, everything drains and the history holds
    prober.settle()
    stack.drain(scale["drain_s"])
    assert_history_ok(stack)


@pytest.mark.parametrize("scale", SCALES)
def test_broker_link_latency_drop_and_stall(make_stack, scale):
    # Given a job flowing, every process reaching the broker through the proxy
    stack = make_stack(executors=2, proxied=("broker",))
    proxy, prober = stack.proxies["broker"], Prober(stack)
    poison_every = scale["broker_poison_every"]
    stack.submit(scale["items"], poison_every=poison_every, sleep_ms=5)
    wait_until(lambda: completed(stack) > 20, 60, "some progress")
    drains = []
    for n in range(scale["cycles"]):
        proxy.delay(50)
        time.sleep(1.0)
        proxy.heal()
        # When every broker connection is closed (FIN) mid-flow, the clients reconnect
        cut = proxy.drop(FIN)
        assert cut >= 3, f"only {cut} broker connections went through the proxy"
        # When the link stalls, submissions are still accepted (they wait in the outbox)
        proxy.stall()
        stack.submit(50, poison_every=poison_every // 2, sleep_ms=5)
        stalled = prober.during(scale["stall_s"])
        assert {p.code for p in stalled} == {None}, [p.body for p in stalled]
        proxy.heal()
        healed = time.monotonic()
        prober.settle()
        stack.drain(scale["drain_s"])
        drains.append(time.monotonic() - healed)
        print(f"\ncycle {n}: drained {drains[-1]:.1f} s after healing; {proxy.accepted} accepted")
    assert_history_ok(stack)


@pytest.mark.parametrize("scale", SCALES)
def test_auth_link_latency_drop_and_stall(make_stack, scale):
    # Given the jobs service asking the auth service through the proxy
    stack = make_stack(executors=1, proxied=("auth",))
    proxy, prober = stack.proxies["auth"], Prober(stack)
    recoveries = []
    for _ in range(scale["cycles"]):
        # When the link is slower than nothing but faster than the deadline, callers pass
        proxy.delay(300)
        time.sleep(AUTH_CACHE_S + 0.1)  # the remembered answer has expired: ask again
        slow = prober.probe()
        assert slow.code is None and slow.seconds >= 0.6, slow
        proxy.heal()
        # and after every connection is reset, the channel reconnects by itself
        assert proxy.drop(RST) >= 1
        time.sleep(AUTH_CACHE_S + 0.1)
        assert prober.probe().code is None
        # When the link stalls, callers are denied UNAVAILABLE at the gRPC deadline
        proxy.stall()
        time.sleep(AUTH_CACHE_S + 0.1)
        stalled = prober.during(scale["stall_s"])
        assert {p.code for p in stalled} == {"UNAVAILABLE"}, [p.body for p in stalled]
        assert max(p.seconds for p in stalled) < AUTH_TIMEOUT_S + 1
        proxy.heal()
        recoveries.append(prober.recovery_s(5))
    print(f"\nrecovered {', '.join(f'{r:.2f}' for r in recoveries)} s after healing")
    prober.settle()  # the probes are the items of this scenario
    stack.drain(60)
    assert_history_ok(stack)
