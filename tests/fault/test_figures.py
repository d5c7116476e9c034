"""The figure table adds runs up per scenario, broker and form (pure logic, no stack)."""

from __future__ import annotations

from tests.fault.figures import scenario, table


def line(test: str, broker: str, **figures: float) -> dict:
    values = {"items": 400, "lost": 0, "duplicated": 0, "unexpected": 0, "dead_letter": 0}
    values.update({"re_executed": 0, "drain_s": 1.0})
    return {"test": test, "broker": broker, **values, **figures}


def test_scenario_names_the_file_and_test_and_finds_the_form():
    assert scenario("tests/fault/test_x.py::test_kill[lite-heavy]") == (
        "test_x.py::test_kill",
        "heavy",
    )
    assert scenario("tests/fault/test_x.py::test_kill[short-genuine]") == (
        "test_x.py::test_kill",
        "short",
    )
    assert scenario("tests/fault/test_x.py::test_skew[lite]") == ("test_x.py::test_skew", "-")


def test_table_gives_each_figure_as_its_range_over_the_runs():
    lines = [
        line("tests/fault/t.py::test_a[lite-short]", "pulsar-lite", drain_s=2.5, re_executed=3),
        line("tests/fault/t.py::test_a[lite-short]", "pulsar-lite", drain_s=4.0, dead_letter=1),
        line("tests/fault/t.py::test_a[genuine-short]", "pulsar", items=80),
    ]
    lines.append(line("tests/fault/t.py::test_a[lite-short]", "pulsar-lite", database="sqlite"))
    rows = table(lines).splitlines()
    assert len(rows) == 5  # header, rule, one row per broker and database
    assert rows[2] == (
        "| t.py::test_a | pulsar | postgresql | short | 1 | 80 | 0 | 0 | 0 | 0 | 0 | 1.0 |"
    )
    assert rows[3] == (
        "| t.py::test_a | pulsar-lite | postgresql | short | 2 | 400 | 0 | 0 | 0 | 0-1 | 0-3"
        " | 2.5-4.0 |"
    )
    assert rows[4] == (
        "| t.py::test_a | pulsar-lite | sqlite | short | 1 | 400 | 0 | 0 | 0 | 0 | 0 | 1.0 |"
    )
