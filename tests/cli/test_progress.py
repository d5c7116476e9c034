"""The progress bar and the polling loop that ``workq watch`` and the demo share."""

from __future__ import annotations

import io

from workq_entrypoints.progress import LinePrinter, render_bar, render_job, watch


def test_empty_and_full_bars() -> None:
    assert render_bar(0, 0, 0, 10, 10) == "[..........]   0% 0/10 done"
    assert render_bar(10, 0, 0, 10, 10) == "[##########] 100% 10/10 done"


def test_partial_bar_is_proportional() -> None:
    assert render_bar(5, 0, 0, 10, 10) == "[#####.....]  50% 5/10 done"


def test_bar_is_never_full_before_every_item_is_final() -> None:
    assert render_bar(999, 0, 0, 1000, 10).startswith("[#########.]")


def test_dead_items_are_marked_and_retrying_ones_named() -> None:
    text = render_bar(6, 3, 2, 10, 10)
    assert text.startswith("[######xx..]  80%")
    assert text.endswith("6/10 done, 1 failing, 2 dead")


def test_one_dead_item_among_many_still_shows() -> None:
    assert "x" in render_bar(500, 1, 1, 1000, 10)


def test_bar_width_is_constant() -> None:
    for done, dead in [(0, 0), (3, 1), (7, 3), (1, 9), (10, 0)]:
        bar = render_bar(done, dead, dead, 10, 20)
        assert len(bar[1 : bar.index("]")]) == 20


def test_zero_size_and_out_of_range_counts_do_not_crash() -> None:
    assert render_bar(0, 0, 0, 0, 5).startswith("[#####] 100%")
    assert render_bar(12, 0, 0, 10, 5).startswith("[#####]")


def test_render_job_uses_api_fields() -> None:
    job = {"status": "running", "size": 4, "completed": 2, "failed": 0, "dead": 0}
    assert render_job(job, 4) == "running    [##..]  50% 2/4 done"


def test_watch_polls_until_final_and_reports_each_poll() -> None:
    records = iter(
        [{"status": "queued"}, {"status": "running"}, {"status": "completed", "size": 1}]
    )
    seen: list[str] = []
    sleeps: list[float] = []
    final = watch(
        lambda: next(records), lambda j: seen.append(j["status"]), 0.5, sleep=sleeps.append
    )
    assert final["status"] == "completed"
    assert seen == ["queued", "running", "completed"]
    assert sleeps == [0.5, 0.5]


def test_tty_printer_redraws_one_line() -> None:
    out = io.StringIO()
    printer = LinePrinter(out, tty=True, width=4)
    printer({"status": "running", "size": 2, "completed": 1})
    printer({"status": "completed", "size": 2, "completed": 2})
    text = out.getvalue()
    assert text.count("\r") == 2
    assert text.endswith("\n") and text.count("\n") == 1


def test_non_tty_printer_prints_on_change_or_every_few_seconds() -> None:
    out, now = io.StringIO(), [0.0]
    printer = LinePrinter(out, tty=False, every_s=5, width=4, clock=lambda: now[0])
    for t, status in [(0, "running"), (1, "running"), (6, "running"), (7, "completed")]:
        now[0] = t
        printer({"status": status, "size": 2, "completed": 1 if status == "running" else 2})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "\r" not in out.getvalue()
    assert lines[-1].startswith("completed")
