"""docs/quotas.md and docs/grpc-tls.md stay true: GraphQL validates, settings exist, the error
example has the shape the API answers with, the client and CLI examples are real."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import fields
from pathlib import Path

import pytest
from graphql import parse, validate

import workq
from tests.docs.test_readme import code_blocks
from workq_core.config.sections import CORE_SECTIONS
from workq_core.web import load_schema
from workq_entrypoints.cli import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
QUOTAS = (DOCS / "quotas.md").read_text(encoding="utf-8")
TLS = (DOCS / "grpc-tls.md").read_text(encoding="utf-8")
ENV_NAMES = {
    f"WORKQ_{section.upper()}_{f.name.upper()}"
    for section, cls in CORE_SECTIONS.items()
    for f in fields(cls)
}


@pytest.mark.parametrize("document", [b for lang, b in code_blocks(QUOTAS) if lang == "graphql"])
def test_every_graphql_block_validates(document: str) -> None:
    schema = load_schema("workq_core.jobs_service", "jobs.graphql", {})
    assert [e.message for e in validate(schema, parse(document))] == []


def test_the_refusal_example_has_the_extensions_the_api_gives() -> None:
    (example,) = [json.loads(b) for lang, b in code_blocks(QUOTAS) if lang == "json"]
    extensions = example["errors"][0]["extensions"]
    assert set(extensions) == {"code", "quota", "limit", "retryAfterS"}
    assert extensions["code"] == "QUOTA_EXCEEDED"


@pytest.mark.parametrize("source", [b for lang, b in code_blocks(QUOTAS) if lang == "python"])
def test_the_python_examples_compile(source: str) -> None:
    compile(source, "docs/quotas.md", "exec")


def test_the_python_examples_call_the_clients_quota_methods() -> None:
    used = set(re.findall(r"client\.(\w+)\(", QUOTAS))
    assert {"my_quota", "user_quota", "set_user_quota"} <= used
    assert used <= set(dir(workq.Client)) and used <= set(dir(workq.AsyncClient))


def test_every_workq_command_parses() -> None:
    commands = [
        shlex.split(line)
        for lang, b in code_blocks(QUOTAS)
        if lang == "sh"
        for line in b.splitlines()
        if line.startswith("workq ")
    ]
    assert [args[1] for args in commands] == ["quota"] * 4
    for args in commands:
        build_parser().parse_args(args[1:])


@pytest.mark.parametrize("text", [QUOTAS, TLS], ids=["quotas", "grpc-tls"])
def test_every_setting_named_exists(text: str) -> None:
    named = set(re.findall(r"WORKQ_[A-Z0-9_]+", text))
    dotted = set(re.findall(r"`((?:auth|jobs)\.[a-z_]+)`", text))
    assert named, "the page names its settings"
    assert named - ENV_NAMES == set()
    assert {
        d for d in dotted if d.replace(".", "_").upper() not in {n[6:] for n in ENV_NAMES}
    } == set()
