""".env files: parsed strictly, layered between the environment and workq.toml, one per service.

Precedence, lowest first: defaults < workq.toml < .env < .env.<service> <
environment < flags. The parser is checked on text; the layering through
``Layers``; what commands read, and what ``workq config`` shows, through real
``python -m workq_entrypoints`` processes in a temporary working directory.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.core.test_cli import workq
from workq_core import ConfigError
from workq_core.config import DotenvFile, Layers, read_dotenv_files, resolve_settings
from workq_core.config.dotenv import parse_dotenv, read_dotenv
from workq_core.runtime import bootstrap
from workq_entrypoints.cli import build_parser
from workq_entrypoints.options import bootstrap_args, dotenv_service

SECRET = "s3cret-0123456789abcdef0123456789abcdef"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def layered(tmp_path: Path, *, toml: str = "", env=None, flags=None, service=None):
    """Settings resolved as a command in ``tmp_path`` would resolve them."""
    config = write(tmp_path, "workq.toml", toml)
    dotenv = read_dotenv_files(tmp_path, service)
    return resolve_settings(Layers.read(str(config), env or {}, flags or {}, dotenv))


# --- the parser ------------------------------------------------------------------------


def test_the_dotenv_subset_parses():
    # Given every form the subset has, on consecutive lines
    text = (
        "# a comment line\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "  INDENTED = spaced out  \n"
        "EMPTY=\n"
        "SINGLE='literal $HOME \\n # not a comment'\n"
        'DOUBLE="tab\\there \\"quoted\\" back\\\\slash # kept"\n'
        "COMMENTED=abc # dropped\n"
        "HASH=abc#kept\n"
        "EQUALS=a=b=c\n"
        "QUOTED_COMMENT='x' # dropped too\n"
        "CRLF=windows\r\n"
        "PLAIN=again\n"
    )

    # When it is parsed
    values = parse_dotenv(text, ".env")

    # Then each value is what a shell-like dotenv reader gives, the last duplicate winning
    assert values == {
        "PLAIN": "again",
        "EXPORTED": "yes",
        "INDENTED": "spaced out",
        "EMPTY": "",
        "SINGLE": "literal $HOME \\n # not a comment",
        "DOUBLE": 'tab\there "quoted" back\\slash # kept',
        "COMMENTED": "abc",
        "HASH": "abc#kept",
        "EQUALS": "a=b=c",
        "QUOTED_COMMENT": "x",
        "CRLF": "windows",
    }


def test_a_byte_order_mark_is_not_part_of_the_first_key(tmp_path):
    # Given a .env saved by an editor that writes a UTF-8 BOM
    (tmp_path / ".env").write_bytes(b"\xef\xbb\xbfWORKQ_AUTH_PORT=4000\n")

    # When it is read
    dotfile = read_dotenv(tmp_path / ".env", ".env")

    # Then the key is the plain name
    assert dotfile is not None
    assert dict(dotfile.values) == {"WORKQ_AUTH_PORT": "4000"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("JUST_A_NAME", "expected KEY=value"),
        ("1ST=x", "expected KEY=value"),
        ("TWO WORDS=x", "expected KEY=value"),
        ("export NO_VALUE", "expected KEY=value"),
        (f'JWT_SECRET="{SECRET}', 'the value of JWT_SECRET has no closing "'),
        (f"JWT_SECRET='{SECRET}", "the value of JWT_SECRET has no closing '"),
        (f"JWT_SECRET='{SECRET}'trailing", "unexpected text after the quoted value of JWT_SECRET"),
    ],
)
def test_a_malformed_line_names_the_file_and_line_but_not_its_text(line, message):
    # Given a file whose third line is malformed
    text = f"# header\nWORKQ_AUTH_PORT=4000\n{line}\nWORKQ_JOBS_PORT=4001\n"

    # When it is parsed
    with pytest.raises(ConfigError) as caught:
        parse_dotenv(text, ".env.auth")

    # Then the error says where, and what, and never echoes the (maybe secret) value
    assert caught.value.message.startswith(".env.auth:3: ")
    assert message in caught.value.message
    assert SECRET not in caught.value.message


def test_a_file_that_is_not_utf8_is_an_error_naming_the_line(tmp_path):
    (tmp_path / ".env").write_bytes(b"A=1\nB=caf\xe9\n")
    with pytest.raises(ConfigError, match=r"^\.env:2: not UTF-8 text$"):
        read_dotenv(tmp_path / ".env", ".env")


def test_missing_files_are_skipped_and_the_service_file_comes_first(tmp_path):
    # Given only .env and .env.auth
    write(tmp_path, ".env", "A=shared\n")
    write(tmp_path, ".env.auth", "A=auth\n")

    # When each command's files are looked up
    # Then a service sees its own file above .env, others only .env
    assert [f.name for f in read_dotenv_files(tmp_path, "auth")] == [".env.auth", ".env"]
    assert [f.name for f in read_dotenv_files(tmp_path, "jobs")] == [".env"]
    assert [f.name for f in read_dotenv_files(tmp_path)] == [".env"]
    assert read_dotenv_files(tmp_path / "nothing-here", "auth") == ()
    with pytest.raises(ValueError, match="unknown service 'up'"):
        read_dotenv_files(tmp_path, "up")


def test_a_parsed_file_never_shows_its_values_in_repr():
    dotfile = DotenvFile(".env", {"JWT_SECRET": SECRET})
    assert SECRET not in repr(dotfile)
    assert ".env" in repr(dotfile)


# --- layering --------------------------------------------------------------------------


def test_each_layer_overrides_the_one_below(tmp_path):
    # Given one key per layer boundary, set in that layer and every layer below it
    toml = (
        "[executor]\nmax_attempts = 2\nbase_delay_ms = 2\nmax_delay_ms = 2\n"
        "threads = 2\nprocesses = 2\n"
    )
    write(
        tmp_path,
        ".env",
        "WORKQ_EXECUTOR_BASE_DELAY_MS=3\nWORKQ_EXECUTOR_MAX_DELAY_MS=3\n"
        "WORKQ_EXECUTOR_THREADS=3\nWORKQ_EXECUTOR_PROCESSES=3\n",
    )
    write(
        tmp_path,
        ".env.executor",
        "WORKQ_EXECUTOR_MAX_DELAY_MS=4\nWORKQ_EXECUTOR_THREADS=4\nWORKQ_EXECUTOR_PROCESSES=4\n",
    )
    env = {"WORKQ_EXECUTOR_THREADS": "5", "WORKQ_EXECUTOR_PROCESSES": "5"}
    flags = {"executor.processes": "6"}

    # When the executor's settings are resolved
    settings = layered(tmp_path, toml=toml, env=env, flags=flags, service="executor")

    # Then toml < .env < .env.executor < environment < flag
    executor, sources = settings.executor, settings.sources
    assert (executor.max_attempts, sources["executor.max_attempts"]) == (
        2,
        f"file {tmp_path}/workq.toml",
    )
    assert (executor.base_delay_ms, sources["executor.base_delay_ms"]) == (3, "file .env")
    assert (executor.max_delay_ms, sources["executor.max_delay_ms"]) == (4, "file .env.executor")
    assert (executor.threads, sources["executor.threads"]) == (5, "env WORKQ_EXECUTOR_THREADS")
    assert (executor.processes, sources["executor.processes"]) == (6, "flag")
    assert sources["executor.dedup_store"] == "default"


def test_legacy_names_follow_the_layer_they_are_in(tmp_path):
    # Given PORT and WORKQ_AUTH_PORT spread over the layers
    write(tmp_path, ".env", "WORKQ_AUTH_PORT=4000\nPORT=4001\nWORKQ_JOBS_PORT=5000\n")
    write(tmp_path, ".env.auth", "PORT=4002\n")

    # When resolved for auth, with and without PORT in the real environment
    in_files = layered(tmp_path, service="auth")
    in_env = layered(tmp_path, service="auth", env={"PORT": "4003"})
    shared_only = layered(tmp_path)

    # Then the higher layer wins whichever name it uses; within a layer WORKQ_ wins
    assert (in_files.auth.port, in_files.sources["auth.port"]) == (4002, "file .env.auth")
    assert (in_env.auth.port, in_env.sources["auth.port"]) == (4003, "env PORT")
    assert (shared_only.auth.port, shared_only.sources["auth.port"]) == (4000, "file .env")
    assert in_files.jobs.port == 4002  # PORT means both ports, as in the environment


def test_names_workq_does_not_know_are_ignored_exactly_as_in_the_environment(tmp_path):
    # Given a .env shared with docker compose, plus WORKQ_ names that are not config keys
    others = {
        "POSTGRES_PASSWORD": "hunter22",
        "HOST": "db.internal",
        "WORKQ_AUTH_URL": "http://auth.example/graphql",
        "WORKQ_EXECUTOR_THREAD": "9",
    }
    write(tmp_path, ".env", "".join(f"{k}={v}\n" for k, v in others.items()))

    # When settings are resolved from the file, and from the same names in the environment
    from_file = layered(tmp_path)
    (tmp_path / ".env").unlink()
    from_env = layered(tmp_path, env=others)

    # Then neither takes anything from them (the loader has never rejected unknown
    # WORKQ_ names: the CLI's own WORKQ_AUTH_URL and WORKQ_CONFIG are some)
    assert set(from_file.sources.values()) == {"default"}
    assert from_file == from_env


def test_a_bad_value_in_a_file_names_the_key_and_the_file(tmp_path):
    write(tmp_path, ".env.auth", "WORKQ_AUTH_PORT=http\n")
    with pytest.raises(
        ConfigError, match=r"auth.port \(from file \.env\.auth\): expected an integer"
    ):
        layered(tmp_path, service="auth")


def test_workq_config_in_a_dotenv_names_the_config_file(tmp_path):
    # Given two config files, one named by .env
    write(tmp_path, "prod.toml", "[executor]\nthreads = 11\n")
    write(tmp_path, "other.toml", "[executor]\nthreads = 12\n")
    write(tmp_path, ".env", f"WORKQ_CONFIG={tmp_path / 'prod.toml'}\n")
    dotenv = read_dotenv_files(tmp_path)

    # When no --config is given, and when the environment names the other file
    from_dotenv = resolve_settings(Layers.read(None, {}, {}, dotenv))
    from_env = Layers.read(None, {"WORKQ_CONFIG": str(tmp_path / "other.toml")}, {}, dotenv)

    # Then .env picks the file, and the environment beats .env for it too
    assert from_dotenv.executor.threads == 11
    assert resolve_settings(from_env).executor.threads == 12


def test_plugin_sections_and_their_legacy_names_read_dotenv(tmp_path):
    # Given the JWT plugin's legacy names in .env
    write(tmp_path, ".env", f"JWT_SECRET={SECRET}\nJWT_EXPIRATION_MS=60000\n")

    # When a runtime is bootstrapped with the parsed file
    runtime = bootstrap(env={}, flags={}, dotenv=read_dotenv_files(tmp_path))

    # Then the plugin's section has them, sourced from the file
    jwt = runtime.settings.section("jwt")
    assert (jwt.secret, jwt.expiration_ms) == (SECRET, 60000)
    assert runtime.settings.sources["jwt.secret"] == "file .env"


def test_library_code_never_reads_dotenv_by_itself(tmp_path, monkeypatch):
    # Given a .env in the working directory, but none passed in (library callers)
    write(tmp_path, ".env", "WORKQ_AUTH_PORT=4000\n")
    monkeypatch.chdir(tmp_path)

    # When settings are bootstrapped the way tests and embedding code do
    settings = bootstrap(env={}, flags={}).settings

    # Then the file was not read behind the caller's back
    assert settings.sources["auth.port"] == "default"


# --- the commands ----------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory with workq.toml, a compose-style .env and a .env.auth."""
    write(tmp_path, "workq.toml", "[auth]\nbcrypt_cost = 10\nlogin_window_s = 60\n")
    write(
        tmp_path,
        ".env",
        "# shared with docker compose\n"
        "POSTGRES_PASSWORD=hunter22\n"
        f"JWT_SECRET='{SECRET}'\n"
        "export WORKQ_AUTH_BCRYPT_COST=11\n"
        'DATABASE_URL="postgresql://workq:hunter22@db:5432/workq"\n',
    )
    write(tmp_path, ".env.auth", "WORKQ_AUTH_BCRYPT_COST=13\nPORT=4000\n")
    return tmp_path


def config_rows(result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    assert result.returncode == 0, result.stderr
    return {row["key"]: row for row in json.loads(result.stdout)}


def test_workq_config_shows_the_shared_view_by_default(project):
    # When `workq config` runs with no --service
    rows = config_rows(workq("config", "--json", cwd=project))

    # Then .env applies, .env.auth does not, and secrets from .env stay masked
    assert rows["auth.bcrypt_cost"]["value"] == 11
    assert rows["auth.bcrypt_cost"]["source"] == "file .env"
    assert rows["auth.port"]["source"] == "default"
    assert rows["auth.login_window_s"]["source"] == "file workq.toml"
    assert rows["jwt.secret"] == {**rows["jwt.secret"], "value": "********", "source": "file .env"}
    assert rows["database.url"]["value"] == "********"


def test_workq_config_service_shows_that_services_view(project):
    # When `workq config --service auth` runs, with one key also in the real environment
    result = workq(
        "config", "--json", "--service", "auth", cwd=project, env={"WORKQ_AUTH_PORT": "4100"}
    )
    rows = config_rows(result)

    # Then .env.auth beats .env, the environment beats both, and nothing secret is printed
    assert (rows["auth.bcrypt_cost"]["value"], rows["auth.bcrypt_cost"]["source"]) == (
        13,
        "file .env.auth",
    )
    assert (rows["auth.port"]["value"], rows["auth.port"]["source"]) == (
        4100,
        "env WORKQ_AUTH_PORT",
    )
    assert rows["jobs.port"]["source"] == "file .env.auth"  # PORT, as in the environment
    assert rows["jwt.secret"]["source"] == "file .env"
    for secret in (SECRET, "hunter22"):
        assert secret not in result.stdout


def test_workq_config_text_names_the_files_and_a_flag_beats_them(project):
    # When the text form runs for auth with a flag on one key
    result = workq("config", "--service", "auth", "--set", "auth.bcrypt_cost=14", cwd=project)

    # Then each line names its source, and the flag wins over both files
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert lines["auth.bcrypt_cost"].endswith("14  (flag)")
    assert lines["auth.port"].endswith("4000  (file .env.auth)")
    assert lines["jwt.secret"].endswith('"********"  (file .env)')
    assert SECRET not in result.stdout


def test_a_malformed_dotenv_stops_any_command_with_one_line(tmp_path):
    # Given a .env whose second line has an unterminated quote around a secret
    write(tmp_path, ".env", f'POSTGRES_PASSWORD=x\nJWT_SECRET="{SECRET}\n')

    # When a command that reads configuration runs
    result = workq("config", cwd=tmp_path)

    # Then it exits 2 with one line naming file and line, without the secret
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        'workq: error: .env:2: the value of JWT_SECRET has no closing " (on this line)\n'
    )


# A key in the core section fails first (before plugins load); one in graphql
# fails late. A command that read a file with the early failure would report
# that one, so the error a command reports shows which files it read.
EARLY = "WORKQ_CORE_LOG_LEVEL=LOUD\n"
LATE = "WORKQ_GRAPHQL_MAX_DEPTH=deep\n"
LATE_ERROR = "graphql.max_depth (from file {}): expected an integer, got 'deep'"


@pytest.mark.parametrize("service", ["auth", "jobs", "executor"])
def test_a_service_command_reads_its_own_file_and_no_other(tmp_path, service):
    # Given every other service's file would fail early, and this one's late
    for other in {"auth", "jobs", "executor"} - {service}:
        write(tmp_path, f".env.{other}", EARLY)
    write(tmp_path, f".env.{service}", LATE)

    # When the service command starts
    result = workq(service, cwd=tmp_path)

    # Then it stopped at its own file's value, so it read that file and not the others
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "workq: error: " + LATE_ERROR.format(f".env.{service}")


@pytest.mark.parametrize("command", ["up", "migrate", "plugins"])
def test_other_commands_read_only_the_shared_file(tmp_path, command):
    # Given every service file would fail early, and .env late
    for service in ("auth", "jobs", "executor"):
        write(tmp_path, f".env.{service}", EARLY)
    write(tmp_path, ".env", LATE)

    # When a command that is not one service starts (`workq up` runs all three)
    result = workq(command, cwd=tmp_path)

    # Then only .env was read
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "workq: error: " + LATE_ERROR.format(".env")


def test_the_real_environment_beats_a_service_file(tmp_path):
    # Given .env.jobs sets a bad value that the environment overrides
    write(tmp_path, ".env.jobs", LATE)

    # When `workq config --service jobs` runs with the good value in the environment
    rows = config_rows(
        workq(
            "config",
            "--json",
            "--service",
            "jobs",
            cwd=tmp_path,
            env={"WORKQ_GRAPHQL_MAX_DEPTH": "7"},
        )
    )

    # Then the file's value was never even converted
    assert rows["graphql.max_depth"]["value"] == 7


def test_executor_worker_processes_get_the_files_the_parent_read(tmp_path, monkeypatch):
    # Given an executor's working directory with its own file
    write(tmp_path, ".env.executor", "WORKQ_EXECUTOR_THREADS=6\n")
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["executor"])

    # When the parent computes the bootstrap arguments it also hands its worker processes
    spawn_args = bootstrap_args(args)
    (tmp_path / ".env.executor").unlink()  # a child must not depend on reading it again

    # Then a child bootstrapping from them (as executor.runner.child_main does) agrees
    child = bootstrap(env={}, **spawn_args).settings
    assert (child.executor.threads, child.sources["executor.threads"]) == (
        6,
        "file .env.executor",
    )


@pytest.mark.parametrize(
    ("argv", "service"),
    [
        (["auth"], "auth"),
        (["jobs"], "jobs"),
        (["executor"], "executor"),
        (["up"], None),
        (["demo"], None),
        (["migrate"], None),
        (["config"], None),
        (["config", "--service", "jobs"], "jobs"),
    ],
)
def test_which_service_file_each_command_reads(argv, service):
    args = build_parser().parse_args(argv)
    assert dotenv_service(args) == service
    assert not getattr(args, "service", False) or argv[0] != "config"  # config stays a one-shot
