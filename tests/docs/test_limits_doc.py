"""docs/limits.md stays true: its GraphQL validates, its commands parse, its job type loads."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from graphql import parse, validate

from tests.docs.test_readme import code_blocks
from workq_core.web import load_schema
from workq_entrypoints.cli import build_parser

DOC = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text(encoding="utf-8")
BLOCKS = code_blocks(DOC)


@pytest.mark.parametrize("document", [b for lang, b in BLOCKS if lang == "graphql"])
def test_every_graphql_block_validates(document: str) -> None:
    schema = load_schema("workq_core.jobs_service", "jobs.graphql", {})
    assert [e.message for e in validate(schema, parse(document))] == []


def test_every_command_parses() -> None:
    commands = [line for lang, b in BLOCKS if lang == "sh" for line in b.splitlines() if line]
    assert len(commands) == 4
    for command in commands:
        args = shlex.split(command)
        assert args[0] == "workq"
        build_parser().parse_args(args[1:])


def test_the_declared_job_type_is_a_valid_one() -> None:
    (source,) = [b for lang, b in BLOCKS if lang == "python" and "class ReportJob" in b]
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - our own documentation
    from workq_core.registry import check_job_type

    job = namespace["ReportJob"]()
    check_job_type("docs", job)
    assert [limit.key for limit in job.limits] == ["/customer_id", None]
