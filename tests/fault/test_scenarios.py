"""Fault scenarios on a real stack: each injects one kind of fault, drains, and checks history.

Each scenario has a short form (default run, CI) and a heavy form
(``-m heavy`` or ``WORKQ_FAULT_SCALE=heavy``); see docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import signal
import time
from urllib.parse import urlparse

import jwt
import pytest

from tests.fault.harness import (
    AUTH_CACHE_S,
    EXECUTE,
    JOB_TYPE,
    MAX_ATTEMPTS,
    Stack,
    check,
    wait_until,
)
from workq import Unavailable

pytestmark = pytest.mark.e2e

SHORT = {"items": 400, "faults": 2, "drain_s": 120}
HEAVY = {"items": 2000, "faults": 8, "drain_s": 300}
SCALES = [pytest.param(SHORT, id="short"), pytest.param(HEAVY, id="heavy", marks=pytest.mark.heavy)]
LEAKS = ("Traceback", "psycopg", "peewee", "OperationalError", "SELECT ", "INSERT ", "UPDATE ")


def assert_history_ok(stack: Stack) -> None:
    report = check(stack)
    print(f"\nfault report: {report.describe()}")
    assert report.ok, report.describe()
    assert report.max_attempts_seen <= MAX_ATTEMPTS


def runs_before_run_at(stack: Stack) -> int:
    """Runs (side effects) that ended before their job's ``runAt``: none may."""
    run_at = dict(stack.sql("SELECT id, run_at FROM jobs"))  # the stack's database
    ends = stack.effects_sql("SELECT job_id, at_ms FROM fault_effects")  # the history's
    return sum(1 for job_id, at_ms in ends if at_ms < (run_at.get(job_id) or 0))


def completed(stack: Stack) -> int:
    return stack.counts()["completed"]


def final(stack: Stack) -> int:
    counts = stack.counts()
    return counts["completed"] + counts["dead"]


def raw_post(stack: Stack, query: str, variables: dict, token: str | None) -> tuple[int, str]:
    """One GraphQL POST to the jobs service; the HTTP status and the body text as sent."""
    url = urlparse(stack.jobs_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(
            "POST", url.path, json.dumps({"query": query, "variables": variables}), headers
        )
        answer = conn.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        conn.close()


def error_code(body: str) -> str | None:
    errors = json.loads(body).get("errors") or [{}]
    return (errors[0].get("extensions") or {}).get("code")


def test_no_fault_baseline(make_stack):
    stack = make_stack(executors=2)
    stack.submit(200, poison_every=25)
    stack.drain(60)
    assert_history_ok(stack)


@pytest.mark.genuine_default
@pytest.mark.parametrize("scale", SCALES)
def test_executor_sigkill_at_random_moments(make_stack, scale):
    # Given a job worked by three executors
    stack = make_stack(executors=3)
    stack.submit(scale["items"], poison_every=50, sleep_ms=50)
    rng = random.Random()
    wait_until(lambda: final(stack) > 0, 60, "some progress")
    # When an executor is SIGKILLed at a random moment, again and again, and replaced
    kills_mid_job = 0
    for _ in range(scale["faults"]):
        time.sleep(rng.uniform(0.3, 1.0))
        stack.kill(rng.choice(stack.live_executors()))
        kills_mid_job += final(stack) < scale["items"]
        stack.start_executor()
    # Then everything drains, nothing lost, duplicated or unexpected
    stack.drain(scale["drain_s"])
    print(f"\nkills while items were pending: {kills_mid_job}/{scale['faults']}")
    assert kills_mid_job >= 1, "every kill came after the job finished"
    assert_history_ok(stack)


@pytest.mark.genuine_default
@pytest.mark.parametrize("scale", SCALES)
def test_executor_killed_between_commit_and_ack(make_stack, scale):
    # Given a job, and only executors that die right after committing outcomes, before acking
    stack = make_stack(executors=0)
    stack.submit(scale["items"], poison_every=50, sleep_ms=5)
    rng = random.Random()
    deaths = 0
    for _ in range(scale["faults"]):
        after = str(rng.randint(1, 4))
        # one thread: the batch that committed is the only one in flight when it dies
        proc = stack.start_executor(
            threads=1, WORKQ_FAULT_POINT="after_commit_before_ack", WORKQ_FAULT_AFTER=after
        )
        wait_until(lambda p=proc: not p.alive() or final(stack) >= scale["items"], 60, "a death")
        if proc.popen.poll() is None:
            break  # the job finished first
        assert proc.popen.returncode == 137, proc.tail()
        deaths += 1
    # Then a healthy executor finishes; committed outcomes never run again (pids not excused)
    stack.start_executor()
    stack.drain(scale["drain_s"])
    print(f"\nexecutors died between commit and ack: {deaths}")
    assert deaths >= 1
    assert_history_ok(stack)


@pytest.mark.genuine_default
@pytest.mark.parametrize("scale", SCALES)
def test_jobs_service_killed_between_commit_and_publish(make_stack, scale):
    # Given executors that do not relay, so the jobs service's relay is the only one
    stack = make_stack(executors=0)
    for _ in range(2):
        stack.start_executor(WORKQ_EXECUTOR_RELAY="false")
    per_job = max(50, scale["items"] // scale["faults"])
    for n in range(scale["faults"]):
        # (a sweep's re-publish rows of the last job gone: the fault point takes any claim)
        wait_until(lambda: not stack.sql("SELECT 1 FROM outbox LIMIT 1"), 30, "an empty outbox")
        # When the jobs service dies after committing a submission, before publishing it
        stack.jobs.popen.terminate()
        assert stack.jobs.popen.wait(20) == 0, stack.jobs.tail()
        stack.start_jobs(WORKQ_FAULT_POINT="after_claim_before_publish")
        key = f"fault-{n}"
        with contextlib.suppress(Unavailable):  # died before answering: retried with the key
            stack.submit(per_job, poison_every=50, idempotency_key=key)
        assert stack.jobs.popen.wait(30) == 137, stack.jobs.tail()
        # Then a restarted service publishes it, and the retried submission is the same job
        stack.start_jobs()
        started = time.monotonic()
        stack.submit(per_job, poison_every=50, idempotency_key=key, retry=True)
        stack.drain(scale["drain_s"])
        print(f"\njob {n} drained {time.monotonic() - started:.1f}s after the restart")
    assert len(stack.submissions) == scale["faults"]
    assert_history_ok(stack)


@pytest.mark.genuine_default
@pytest.mark.parametrize("scale", SCALES)
def test_broker_sigkill_and_restart_under_load(make_stack, scale):
    stack = make_stack(executors=3)
    stack.submit(scale["items"], poison_every=50, sleep_ms=10)
    for _ in range(max(1, scale["faults"] // 3)):
        wait_until(lambda: completed(stack) > 0, 60, "some progress")
        time.sleep(0.5)
        # When the broker is SIGKILLed under load and restarted on the same port
        stack.broker.kill()
        time.sleep(1.0)
        stack.broker.start()
    # Then the backlog drains; attempts stay bounded though the broker's counts reset
    stack.drain(scale["drain_s"])
    assert_history_ok(stack)


@pytest.mark.parametrize("scale", SCALES)
def test_a_delayed_job_across_executor_kills_and_broker_restarts(make_stack, scale):
    # Given a delayed job, and a second one due later, on three executors
    stack = make_stack(executors=3)
    stack.submit(scale["items"] // 4, poison_every=50, delay_ms=1500)
    stack.submit(scale["items"] // 4, poison_every=50, sleep_ms=5, delay_ms=3000)
    # When executors are SIGKILLed while they wait and run (and, in the heavy
    # form, the broker restarts; the short form's broker restart is
    # tests/executor/test_queue_order.py, at a fraction of the cost)
    for _ in range(max(1, scale["faults"] // 2)):
        time.sleep(0.7)
        stack.kill(random.choice(stack.live_executors()))
        stack.start_executor()
    if scale == HEAVY:
        stack.broker.kill()
        time.sleep(1.0)
        stack.broker.start()
    # Then everything drains as usual, and no run started before its job's runAt
    stack.drain(scale["drain_s"])
    assert_history_ok(stack)
    assert runs_before_run_at(stack) == 0


@pytest.mark.parametrize("scale", SCALES)
def test_executor_paused_while_holding_prefetched_items(make_stack, scale):
    # Given a job flowing to three executors
    stack = make_stack(executors=3)
    stack.submit(scale["items"], poison_every=50, sleep_ms=5)
    wait_until(lambda: completed(stack) > 20, 60, "some progress")
    # When one is paused with SIGSTOP, its prefetched and claimed items with it
    paused = stack.executors[0]
    stack.pause(paused)
    try:
        # Then the others finish everything while it stays paused
        stack.drain(scale["drain_s"])
    finally:
        stack.resume(paused)
    # And once it resumes, it commits nothing over the others' results
    time.sleep(3)
    assert_history_ok(stack)


@pytest.mark.parametrize("scale", SCALES)
def test_sigterm_during_a_job(make_stack, scale):
    stack = make_stack(executors=2)
    stack.submit(scale["items"], poison_every=50, sleep_ms=10)
    for _ in range(scale["faults"]):
        wait_until(lambda: completed(stack) > 10, 60, "some progress")
        # When an executor gets SIGTERM mid-job, it drains and exits cleanly (not excused)
        proc = stack.live_executors()[0]
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(30) == 0, proc.tail()
        stack.start_executor()
        stack.wait_executors_ready(2)  # a SIGTERM before the handler is installed just kills
    stack.drain(scale["drain_s"])
    assert_history_ok(stack)


@pytest.mark.parametrize(
    "outage_s", [pytest.param(2, id="short"), pytest.param(40, id="heavy", marks=pytest.mark.heavy)]
)
def test_auth_service_down_callers_deny_then_recover(make_stack, outage_s):
    stack = make_stack(executors=2)
    stack.submit(50)
    # When the auth service is killed, the jobs service denies every caller, clearly,
    # once the answers it remembers have expired (jobs.auth_cache_s, docs/security.md)
    stack.kill(stack.auth)
    time.sleep(AUTH_CACHE_S + 0.1)
    deadline = time.monotonic() + outage_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        status, body = raw_post(
            stack, EXECUTE, {"input": {"name": JOB_TYPE, "data": {"key": "x"}}}, stack.token
        )
        assert status != 500 and not any(leak in body for leak in LEAKS), body
        assert error_code(body) in ("UNAVAILABLE", "UNAUTHENTICATED"), body
    # Then, restarted, it vouches for the same token again within a few seconds
    stack.start_auth()
    started = time.monotonic()
    wait_until(lambda: accepted(stack), 5, "jobs service accepting tokens again", every_s=0.2)
    print(f"\nauth recovery after restart: {time.monotonic() - started:.2f}s")
    stack.submit(50, poison_every=10)
    stack.drain(60)
    assert_history_ok(stack)


def accepted(stack: Stack) -> bool:
    status, body = raw_post(stack, "query { jobs { name } }", {}, stack.token)
    return status == 200 and error_code(body) is None


def forged(stack: Stack, *, iat_shift_s: int, exp_shift_s: int) -> str:
    """The stack's own token as an issuer with a skewed clock would have signed it."""
    claims = jwt.decode(stack.token, options={"verify_signature": False})
    now = int(time.time())
    lifetime = claims["exp"] - claims["iat"]
    claims["iat"] = now + iat_shift_s
    claims["exp"] = now + exp_shift_s if exp_shift_s else claims["iat"] + lifetime
    return jwt.encode(
        claims, stack.jwt_secret, algorithm=jwt.get_unverified_header(stack.token)["alg"]
    )


def test_clock_skew_on_token_expiry(make_stack):
    stack = make_stack(executors=1)
    query = "query { myJobs(first: 1) { nodes { id } } }"
    cases = {
        "issuer 20 s ahead": (forged(stack, iat_shift_s=20, exp_shift_s=0), True),
        "expired 20 s ago": (forged(stack, iat_shift_s=-3600, exp_shift_s=-20), True),
        "issuer 120 s ahead": (forged(stack, iat_shift_s=120, exp_shift_s=0), False),
        "expired 120 s ago": (forged(stack, iat_shift_s=-3600, exp_shift_s=-120), False),
    }
    for name, (token, accepted) in cases.items():
        status, body = raw_post(stack, query, {}, token)
        assert status != 500, body
        code = error_code(body)
        if accepted:
            assert code is None, f"{name}: within the 30 s leeway, yet {body}"
        else:
            assert code == "UNAUTHENTICATED", f"{name}: beyond the leeway, yet {body}"


@pytest.mark.postgres_only
def test_postgres_stopped_and_restarted_during_a_run(private_pg, make_stack):
    # private_pg first: it is set up before the stack and torn down after it
    stack = make_stack(executors=3, pg=private_pg.server)
    stack.submit(400, poison_every=50, sleep_ms=10)
    wait_until(lambda: completed(stack) > 20, 60, "some progress")
    answers: list[tuple[int, str]] = []
    # Attempts in flight when the database goes away cannot commit their outcome, so
    # they run again afterwards (at-least-once): the executors count as faulted here.
    # What must still hold: nothing lost, one committed completion per item, exact DLQ.
    stack.faulted_pids.update(proc.pid for proc in stack.executors)
    private_pg.stop("immediate")
    try:
        # While PostgreSQL is down the API answers UNAVAILABLE: never a 500, never SQL text
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            data = {"key": "during-outage"}
            answers.append(
                raw_post(stack, EXECUTE, {"input": {"name": JOB_TYPE, "data": data}}, stack.token)
            )
            time.sleep(0.3)
    finally:
        private_pg.start()
    for status, body in answers:
        assert status != 500 and not any(leak in body for leak in LEAKS), body
        assert error_code(body) == "UNAVAILABLE", body
    # Then everything drains afterwards
    stack.drain(180)
    assert_history_ok(stack)
