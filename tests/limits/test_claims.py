"""Limits at claim time on both databases: who starts, who is parked, who is woken, in order."""

from __future__ import annotations

import time

from workq_core.db.sql import now_ms, run
from workq_core.executor.attempts import Verdict, mark_started
from workq_core.jobs.admission import items_in_broker
from workq_core.jobs.sweeper import sweep
from workq_core.limits import Limit
from workq_core.limits.store import set_override

RUN, PARKED = Verdict.RUN, Verdict.PARKED


def verdicts(claims):
    return [c.verdict for c in claims]


def test_items_over_a_keys_concurrency_are_parked_without_using_an_attempt(items):
    items.limits["Probe"] = [Limit(key="/c", concurrency=2)]
    refs = items.submit([{"c": "a"}] * 4 + [{"c": "b"}])

    claims = items.claim(refs)

    assert verdicts(claims) == [RUN, RUN, PARKED, PARKED, RUN]
    parked = items.item(refs[2])
    assert parked["status"] == "queued" and parked["attempts"] == 0
    assert parked["limit_scope"] == "Probe|/c|a"
    assert parked["limit_reason"] == "CONCURRENCY_LIMIT"
    # Nothing is due before a slot frees; only the queue's head has a message,
    # due when a holder's lease would end (in case its executor died).
    ((head, due),) = items.woken()
    assert head == refs[2].item_id
    assert due == items.item(refs[0])["lease_expires_at"] > now_ms() + 50_000


def test_a_finished_attempt_wakes_the_oldest_parked_item_of_its_key(items):
    items.limits["Probe"] = [Limit(key="/c", concurrency=1)]
    refs = items.submit([{"c": "a"}] * 3)
    first, *_ = items.claim(refs)
    items.clear_outbox()

    assert items.complete([first]) == [True]

    woken = items.woken()
    assert [item_id for item_id, _ in woken] == [refs[1].item_id]
    assert woken[0][1] <= now_ms()


def test_a_fresh_item_does_not_overtake_parked_ones(items):
    items.limits["Probe"] = [Limit(key="/c", concurrency=1)]
    refs = items.submit([{"c": "a"}] * 2)
    first, _ = items.claim(refs)
    items.complete([first])
    (late,) = items.submit([{"c": "a"}])

    assert verdicts(items.claim([late])) == [PARKED]  # refs[1] waits longer
    assert verdicts(items.claim([items.ref(refs[1])])) == [RUN]
    assert items.item(refs[1])["limit_scope"] is None


def test_parked_items_run_in_the_order_they_were_parked(items):
    items.limits["Probe"] = [Limit(key="/c", concurrency=1)]
    refs = items.submit([{"c": "a"}] * 4)
    running = items.claim(refs)[0]
    order = []
    for _ in range(3):
        items.clear_outbox()
        items.complete([running])
        (woken_id, _), *_ = items.woken()
        order.append(woken_id)
        # the later ones come back too (a duplicate message): they stay parked
        later = [items.ref(r) for r in refs if r.item_id > woken_id]
        assert all(v is PARKED for v in verdicts(items.claim(later) if later else []))
        (running,) = items.claim([items.ref(next(r for r in refs if r.item_id == woken_id))])
        assert running.verdict is RUN
    assert order == [r.item_id for r in refs[1:]]


def test_a_dead_executors_slot_frees_when_its_lease_ends(items):
    items.limits["Probe"] = [Limit(concurrency=1)]  # the whole job type
    refs = items.submit([{"c": "a"}] * 2)
    assert verdicts(items.claim(refs[:1], lease_ms=50)) == [RUN]
    assert verdicts(items.claim(refs[1:])) == [PARKED]
    head = items.woken()
    assert [i for i, _ in head] == [refs[1].item_id]  # the head is due when that lease ends
    assert head[0][1] >= items.item(refs[0])["lease_expires_at"] - 1

    time.sleep(0.1)  # the holder's executor never comes back

    assert verdicts(items.claim([items.ref(refs[1])])) == [RUN]


def test_a_rate_limit_parks_until_the_window_has_room(items):
    items.limits["Probe"] = [Limit(key="/c", rate=2, per_s=0.3)]
    refs = items.submit([{"c": "a"}] * 3)

    claims = items.claim(refs)

    assert verdicts(claims) == [RUN, RUN, PARKED]
    parked = items.item(refs[2])
    assert parked["limit_reason"] == "RATE_LIMIT"
    assert [i for i, _ in items.woken()] == [refs[2].item_id]
    ((_, due),) = items.woken()
    assert due == parked["limited_until"]
    items.complete(claims[:2])  # finishing does not give back a start
    assert verdicts(items.claim([items.ref(refs[2])])) == [PARKED]
    time.sleep(max(0, due - now_ms()) / 1000 + 0.02)
    assert verdicts(items.claim([items.ref(refs[2])])) == [RUN]


def test_every_limit_of_an_item_must_have_room(items):
    items.limits["Probe"] = [Limit(key="user", concurrency=5), Limit(key="/c", concurrency=1)]
    refs = items.submit([{"c": "a"}, {"c": "a"}, {"c": "b"}])

    claims = items.claim(refs)

    assert verdicts(claims) == [RUN, PARKED, RUN]
    assert set(claims[0].scopes) == {f"Probe|user|{items.user_id}", "Probe|/c|a"}
    assert items.item(refs[1])["limit_scope"] == "Probe|/c|a"


def test_an_operators_limits_replace_the_declared_ones_and_wake_the_parked(items):
    items.limits["Probe"] = [Limit(concurrency=1)]
    refs = items.submit([{"c": "a"}] * 3)
    items.claim(refs)
    items.clear_outbox()

    set_override(items.db, "Probe", [Limit(concurrency=3)], items.user_id)

    assert sorted(i for i, _ in items.woken()) == [r.item_id for r in refs[1:]]
    assert verdicts(items.claim([items.ref(r) for r in refs[1:]])) == [RUN, RUN]


def test_parked_items_wait_in_the_database_not_in_the_publish_window(items):
    # Given three published items of a key that runs one at a time
    items.limits["Probe"] = [Limit(concurrency=1)]
    refs = items.submit([{"c": "a"}] * 3)
    run(items.db, "UPDATE items SET published_at = ?", [now_ms()])  # as admission marks them
    assert items_in_broker(items.db, "Probe") == 3

    # When one starts and two are parked
    assert verdicts(items.claim(refs)) == [RUN, PARKED, PARKED]

    # Then none of them fills the window: admission keeps publishing other work
    assert items_in_broker(items.db, "Probe") == 0


def test_items_without_limits_in_force_are_not_touched(items):
    refs = items.submit([{"c": "a"}] * 3)
    claims = items.claim(refs)
    assert verdicts(claims) == [RUN] * 3
    assert all(c.scopes == () for c in claims)


def test_the_sweeper_only_takes_a_keys_head_and_only_once_its_wake_time_is_long_past(items):
    items.limits["Probe"] = [Limit(concurrency=1)]
    refs = items.submit([{"c": "a"}] * 3)
    items.claim(refs)  # refs[1] and refs[2] parked until refs[0]'s lease ends, a minute away
    items.clear_outbox()
    old = now_ms() - 10_000
    # published long ago (admission marks published_at; the sweep goes by it)
    run(items.db, "UPDATE items SET updated_at = ?, published_at = ?", [old, old])
    run(
        items.db,
        "INSERT INTO executors (id, job_types, started_at, heartbeat_at, ran_dry_at)"
        " VALUES ('e1', '[\"Probe\"]', ?, ?, ?)",
        [old, now_ms(), now_ms()],  # an executor of Probe ran dry just now
    )

    assert sweep(items.db, 5_000, 15_000) == 0
    run(items.db, "UPDATE items SET limited_until = ? WHERE limit_scope IS NOT NULL", [old])
    assert sweep(items.db, 5_000, 15_000) == 1
    assert [i for i, _ in items.woken()] == [refs[1].item_id]


def test_an_item_taken_back_from_a_dead_executor_waits_as_a_retry_when_parked(items):
    items.limits["Probe"] = [Limit(concurrency=1)]
    refs = items.submit([{"c": "a"}] * 2)
    (first,) = items.claim(refs[:1], lease_ms=30)
    mark_started(items.db, [first])  # its executor dies while running it
    time.sleep(0.05)
    (second,) = items.claim(refs[1:])
    assert second.verdict is RUN

    assert verdicts(items.claim([items.ref(refs[0])])) == [PARKED]

    parked = items.item(refs[0])
    assert (parked["status"], parked["attempts"], parked["lease_expires_at"]) == (
        "retrying",
        1,
        None,
    )
    items.clear_outbox()
    items.complete([second])
    assert [i for i, _ in items.woken()] == [refs[0].item_id]
    assert verdicts(items.claim([items.ref(refs[0])])) == [RUN]


def test_an_unstarted_item_taken_back_and_parked_keeps_its_attempts(items):
    # Given an item claimed in a batch whose executor died before its handler ran
    items.limits["Probe"] = [Limit(concurrency=1)]
    refs = items.submit([{"c": "a"}] * 2)
    items.claim(refs[:1], lease_ms=30)
    time.sleep(0.05)
    (second,) = items.claim(refs[1:])

    # When it is claimed again and parked behind the running one
    assert verdicts(items.claim([items.ref(refs[0])])) == [PARKED]

    # Then the abandoned claim cost it no attempt, and it later runs as attempt 1
    assert items.item(refs[0])["attempts"] == 0
    items.complete([second])
    (again,) = items.claim([items.ref(refs[0])])
    assert (again.verdict, again.attempt) == (RUN, 1)
