"""Admission's share of free window slots: priorities first, owners in turn, jobs oldest first."""

from __future__ import annotations

from workq_core.jobs.admission import WINDOW_FLOOR, Candidate, Window, share


def job(job_id: str, user: int, size: int, priority: int = 0, published: int = 0) -> Candidate:
    return Candidate(job_id, user, priority, published, size)


def test_a_higher_priority_takes_every_slot_it_can_fill_before_a_lower_one():
    candidates = [job("urgent", 1, 3, priority=5), job("bulk", 2, 100, priority=0)]

    assert share(candidates, 10) == {"urgent": 3, "bulk": 7}
    assert share(candidates, 2) == {"urgent": 2}


def test_owners_of_one_priority_take_turns_one_item_each():
    big, small = job("big", 1, 2000), job("small", 2, 10)

    assert share([big, small], 8) == {"big": 4, "small": 4}
    # The small job runs out; the rest of the slots go to the big one.
    assert share([big, small], 30) == {"big": 20, "small": 10}


def test_the_owner_listed_first_gets_the_odd_slot():
    # The candidates come least recently served first, so the odd slot rotates.
    assert share([job("a", 1, 50), job("b", 2, 50)], 3) == {"a": 2, "b": 1}
    assert share([job("b", 2, 50), job("a", 1, 50)], 3) == {"b": 2, "a": 1}


def test_one_owners_jobs_go_oldest_first_and_resume_where_published_stopped():
    older, newer = job("older", 1, 5, published=3), job("newer", 1, 5)

    assert share([older, newer], 4) == {"older": 2, "newer": 2}


def test_no_free_slot_admits_nothing():
    assert share([job("a", 1, 5)], 0) == {}


def test_the_window_is_fixed_or_sized_from_live_executor_processes():
    assert Window(fixed=10).size(live_processes=7) == 10
    assert Window(per_process=256).size(live_processes=3) == 768
    assert Window(per_process=256).size(live_processes=0) == WINDOW_FLOOR
