"""docs/schedules.md stays true: its GraphQL validates, its commands parse, its errors are real.

Its Python examples run against `workq up` in tests/client/test_workq_up.py.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from graphql import parse, parse_value, validate, value_from_ast_untyped

from tests.docs.test_readme import code_blocks, shell_commands, simple_commands
from tests.jobs_service.conftest import make_stack  # noqa: F401 - the fixture, shared
from workq_core.web import load_schema
from workq_entrypoints.cli import build_parser

DOC = (Path(__file__).resolve().parents[2] / "docs" / "schedules.md").read_text(encoding="utf-8")


def graphql_blocks() -> list[str]:
    return [body for lang, body in code_blocks(DOC) if lang == "graphql"]


def workq_commands() -> list[list[str]]:
    return [
        words[1:]
        for line in shell_commands(DOC)
        for words in simple_commands(line)
        if words[0] == "workq"
    ]


def test_the_doc_shows_every_schedule_operation() -> None:
    text = " ".join(graphql_blocks())
    for operation in (
        "createSchedule(",
        "schedules {",
        "updateSchedule(",
        "pauseSchedule(",
        "resumeSchedule(",
        "deleteSchedule(",
    ):
        assert operation in text, operation
    actions = {args[1] for args in workq_commands()}
    assert actions == {"create", "list", "show", "pause", "resume", "delete"}


@pytest.mark.parametrize("document", graphql_blocks(), ids=lambda d: d.split("(")[0][:40])
def test_every_graphql_block_validates(document: str) -> None:
    schema = load_schema("workq_core.jobs_service", "jobs.graphql", {})
    errors = validate(schema, parse(document))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("args", workq_commands(), ids=lambda a: " ".join(a)[:50])
def test_every_command_parses(args: list[str]) -> None:
    try:
        build_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"workq {shlex.join(args)} does not parse")


def error_table() -> list[tuple[str, str]]:
    """(input field, its GraphQL value, message) of the bad-input table's quoted rows."""
    section = DOC.split("Bad input is refused whole", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+): ([^`]+)` \| `([^`]+)`", section, re.M)
    return [(field, value, message) for field, value, message in rows]


@pytest.fixture
def database_url(tmp_path) -> str:
    """Messages do not depend on the engine: one SQLite stack is enough here."""
    return f"sqlite:///{tmp_path / 'workq.db'}"


def test_the_documented_error_messages_are_the_real_ones(make_stack) -> None:  # noqa: F811
    client = make_stack().user()
    document = "mutation ($input: CreateScheduleInput!) { createSchedule(input: $input) { id } }"
    rows = error_table()
    assert {field for field, _value, _message in rows} >= {"cron", "timeZone", "data", "jobType"}
    for field, value, message in rows:
        fields = {
            "name": "n",
            "jobType": "Fibonacci",
            "data": {"iterations": 1},
            "cron": "0 * * * *",
        }
        if field == "intervalSeconds":
            del fields["cron"]
        fields[field] = value_from_ast_untyped(parse_value(value))
        answer = client.post(document, {"input": fields}).json
        expected = message.replace("Fibonacci.", "Echo, Fibonacci.")  # this stack has Echo too
        assert answer["errors"][0]["message"] == expected, (field, value)
