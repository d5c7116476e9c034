"""README.md stays true: its commands parse, its GraphQL validates, its config table is current."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from graphql import GraphQLSchema, parse, validate

from tests.core.test_cli import LEGACY_ENV, workq
from tests.e2e.test_up_and_demo import Up
from workq_core.runtime import bootstrap
from workq_core.web import load_schema
from workq_entrypoints.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

SETUP_COMMAND = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && workq demo"
TEST_COMMAND = "pip install tox && tox"

# The original API's documents (DESIGN.md, "Contracts that must hold"): verbatim.
ORIGINAL_DOCUMENTS = [
    'mutation { createUser(createUserInput: {email: "a@example.com", password: "S3cret!pass"})'
    " { id email } }",
    "mutation Login($loginInput: LoginInput!) { login(loginInput: $loginInput) { id } }",
    "query { users { id email } }",
    "query { jobs { name description } }",
    "mutation ExecuteJob($executeJobInput: ExecuteJobInput!) {\n"
    "  executeJob(executeJobInput: $executeJobInput) { name description } }",
]
SHELL_LANGS = {"sh", "bash", "shell", "console"}
SEPARATORS = {"|", "||", "&", "&&", ";", "(", ")", "$(", "`"}
# Written by others at the same time as this README; linked before they land.
IN_FLIGHT_DOCS = {"docs/reliability.md", "docs/benchmarks.md"}


def code_blocks(text: str = README) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block."""
    return [(m[1], m[2]) for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)]


def shell_commands(text: str = README) -> list[str]:
    """Logical command lines of the shell blocks: prompts stripped, continuations joined."""
    commands: list[str] = []
    for lang, body in code_blocks(text):
        if lang not in SHELL_LANGS:
            continue
        pending = ""
        for raw in body.splitlines():
            line = raw.removeprefix("$ ") if lang == "console" else raw
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            pending += line
            if pending.strip():
                commands.append(pending.strip())
            pending = ""
    return commands


def simple_commands(line: str) -> list[list[str]]:
    """The simple commands of a shell line (split at pipes, lists and substitutions)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    result: list[list[str]] = [[]]
    for token in lexer:
        if token in SEPARATORS or token.endswith("$"):
            result.append([])
        elif token.startswith((">", "<", "2>")):
            result.append([])  # a redirection ends the arguments we care about
        else:
            result[-1].append(token)
    return [words for words in result if words]


def workq_invocations() -> list[list[str]]:
    found = []
    for line in shell_commands():
        for words in simple_commands(line):
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                words = words[1:]  # leading VAR=value assignments
            if words and words[0] == "workq":
                found.append(words[1:])
    return found


def test_readme_has_workq_commands_to_check() -> None:
    commands = {args[0] for args in workq_invocations() if args}
    assert {"demo", "up", "login", "submit", "status", "watch", "list", "plugins"} <= commands


@pytest.mark.parametrize("args", workq_invocations(), ids=lambda args: " ".join(args)[:60])
def test_every_workq_command_in_readme_parses(args: list[str]) -> None:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            build_parser().parse_args(args)
    except SystemExit as exc:
        informational = {"-h", "--help", "--version"} & set(args)
        if not (informational and exc.code == 0):
            pytest.fail(f"workq {shlex.join(args)} does not parse: {out.getvalue()}")


def test_setup_and_test_commands_are_verbatim() -> None:
    lines = [line.strip() for line in README.splitlines()]
    assert SETUP_COMMAND in lines
    assert TEST_COMMAND in lines


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if not line.strip().startswith("#")]
    assert "tox" in commands
    assert "`.ci/run`" in README and "`tox`" in README


# --- GraphQL ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> dict[str, GraphQLSchema]:
    """Both SDLs, built exactly as the services build them (JSON scalar included)."""
    return {
        "auth": load_schema("workq_core.auth", "schema.graphql", {}),
        "jobs": load_schema("workq_core.jobs_service", "jobs.graphql", {}),
    }


def curl_documents() -> list[tuple[str, dict]]:
    """(service, JSON body) of every curl call in README; service from the URL's port."""
    found = []
    for line in shell_commands():
        for words in simple_commands(line):
            if words[0] != "curl":
                continue
            url = next(w for w in words if w.startswith("http"))
            service = {"3000": "auth", "3001": "jobs"}[re.search(r":(\d+)/", url)[1]]
            for flag, value in itertools.pairwise(words):
                if flag in ("-d", "--data", "--data-raw"):
                    found.append((service, json.loads(value)))
    return found


def graphql_blocks() -> list[str]:
    """Each ```graphql block; the original-API block holds one document per operation."""
    return [body for lang, body in code_blocks() if lang == "graphql"]


def assert_valid(schema: GraphQLSchema, document: str) -> None:
    errors = validate(schema, parse(document))
    assert not errors, f"{document!r}: {[e.message for e in errors]}"


def test_readme_shows_every_original_document_verbatim() -> None:
    assert any(all(doc in block for doc in ORIGINAL_DOCUMENTS) for block in graphql_blocks())


def test_every_original_document_is_sent_by_a_curl_example() -> None:
    sent = {body["query"] for _service, body in curl_documents()}
    missing = [doc for doc in ORIGINAL_DOCUMENTS if doc not in sent]
    assert not missing


def test_curl_examples_cover_following_a_job() -> None:
    sent = " ".join(body["query"] for _service, body in curl_documents())
    for operation in ("job(id:", "myJobs(", "cancelJob(", "retryDeadItems("):
        assert operation in sent
    lists = [
        body
        for _service, body in curl_documents()
        if isinstance(body.get("variables", {}).get("executeJobInput", {}).get("data"), list)
    ]
    assert lists, "no curl example submits a list of items"


@pytest.mark.parametrize(
    "service, body", curl_documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_curl_document_validates(
    schemas: dict[str, GraphQLSchema], service: str, body: dict
) -> None:
    assert_valid(schemas[service], body["query"])
    variables = body.get("variables", {})
    declared = set(re.findall(r"\$(\w+)\s*:", body["query"]))
    assert set(variables) == declared


def graphql_documents() -> list[str]:
    """Documents of the graphql blocks: the original-API block has one per line group."""
    documents = []
    for block in graphql_blocks():
        if ORIGINAL_DOCUMENTS[0] in block:
            documents.extend(ORIGINAL_DOCUMENTS)
            rest = block
            for doc in ORIGINAL_DOCUMENTS:
                rest = rest.replace(doc, "")
            assert not rest.strip(), f"unexpected text in the original-API block: {rest!r}"
        else:
            documents.append(block)
    return documents


@pytest.mark.parametrize("document", graphql_documents(), ids=lambda d: d.split("{")[0][:40])
def test_every_graphql_block_validates(schemas: dict[str, GraphQLSchema], document: str) -> None:
    results = {name: validate(schema, parse(document)) for name, schema in schemas.items()}
    assert any(not errors for errors in results.values()), {
        name: [e.message for e in errors] for name, errors in results.items()
    }


# --- configuration ---------------------------------------------------------------------


def readme_config_table() -> dict[str, tuple[list[str], object]]:
    """key -> (environment names, default) from README's configuration table."""
    rows: dict[str, tuple[list[str], object]] = {}
    lines = README.splitlines()
    start = lines.index("| key | environment | default | meaning |")
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        key, default = cells[0].strip("`"), cells[2].strip("`")
        assert key not in rows, f"{key} listed twice"
        rows[key] = (re.findall(r"`([A-Z0-9_]+)`", cells[1]), json.loads(default))
    return rows


@pytest.fixture(scope="module")
def effective_config(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """`workq config --json` as a user sees it: no workq.toml, no Workq environment."""
    result = workq("config", "--json", cwd=tmp_path_factory.mktemp("config"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    return json.loads(out)


def test_config_table_lists_exactly_the_real_keys(effective_config: list[dict]) -> None:
    assert [row["key"] for row in effective_config] == list(readme_config_table())


def test_config_table_defaults_match(effective_config: list[dict]) -> None:
    table = readme_config_table()
    wrong = {
        row["key"]: (table[row["key"]][1], row["value"])
        for row in effective_config
        if table[row["key"]][1] != row["value"]
    }
    assert not wrong, f"README default vs real default: {wrong}"


def test_config_table_names_the_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./workq.toml
    settings = bootstrap(config_file=None, env={}, flags={}).settings
    table = readme_config_table()
    legacy_seen = set()
    for section_name, section in settings.sections.items():
        for f in dataclasses.fields(section):
            key = f"{section_name}.{f.name}"
            expected = [f"WORKQ_{section_name.upper()}_{f.name.upper()}"]
            if f.metadata.get("env"):
                expected.append(f.metadata["env"])
                legacy_seen.add(f.metadata["env"])
            assert table[key][0] == expected, key
    assert legacy_seen == LEGACY_ENV


# --- links -----------------------------------------------------------------------------


def test_local_links_point_at_files() -> None:
    links = set(re.findall(r"\]\(([^)#:]+)\)", README))
    for doc in ("docs/plugins.md", "docs/cli.md", "docs/security.md", *IN_FLIGHT_DOCS):
        assert doc in links, f"README does not link {doc}"
    missing = [link for link in links - IN_FLIGHT_DOCS if not (ROOT / link).exists()]
    assert not missing


# --- the tour, for real ----------------------------------------------------------------


def tour_script(auth_port: int, jobs_port: int) -> str:
    """The tour's shell commands, except `workq up`, pointed at the given ports."""
    tour = README.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in shell_commands(tour) if not line.startswith("workq ")]
    script = "\n".join(lines)
    return script.replace("127.0.0.1:3000/", f"127.0.0.1:{auth_port}/").replace(
        "127.0.0.1:3001/", f"127.0.0.1:{jobs_port}/"
    )


@pytest.mark.e2e
def test_the_curl_tour_runs_against_workq_up(tmp_path: Path) -> None:
    up = Up(tmp_path / "data").start()
    try:
        script = tour_script(up.ports["auth"], up.ports["jobs"])
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        up.stop()
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert '"errors"' not in out, out
    for field in ("createUser", "login", "users", "jobs", "executeJob", "job", "myJobs"):
        assert f'"{field}":' in out, field
    assert '"retryDeadItems":' in out and '"cancelJob":' in out
    assert out.count('"executeJob":{"name":"Fibonacci"') == 2
