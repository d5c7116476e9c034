"""``workq login/submit/status/watch/list`` as subprocesses against a real local stack."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.cli.conftest import PASSWORD, Cli, login
from tests.support.ports import free_port
from workq_entrypoints.stack import Stack


def test_login_saves_a_private_credentials_file(cli: Cli, stack: Stack, user: str) -> None:
    # When the password comes from stdin, never from argv
    result = login(cli, stack, user)
    # Then the session is saved, readable only by its owner
    assert result.returncode == 0, result.stderr
    assert f"logged in as {user}" in result.stdout
    assert stat.S_IMODE(cli.credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.credentials.parent.stat().st_mode) == 0o700
    saved = json.loads(cli.credentials.read_text())
    assert saved["email"] == user and saved["token"]
    assert saved["jobs_url"] == stack.jobs_url
    assert PASSWORD not in cli.credentials.read_text()


def test_wrong_password_is_refused_and_nothing_saved(cli: Cli, stack: Stack, user: str) -> None:
    result = login(cli, stack, user, "wrong-password")
    assert result.returncode == 1
    assert result.stderr.startswith("workq: error:")
    assert not cli.credentials.exists()


def test_submit_status_watch_list(logged_in: Cli, tmp_path: Path) -> None:
    # Given a job submitted inline and one from a file
    inline = logged_in("submit", "Fibonacci", "--data", '{"iterations": 10}')
    assert inline.returncode == 0, inline.stderr
    job_id = inline.stdout.strip()
    items = tmp_path / "items.json"
    items.write_text(json.dumps([{"iterations": n} for n in range(5)]))
    from_file = logged_in("submit", "Fibonacci", "--data", f"@{items}", "--json")
    assert from_file.returncode == 0, from_file.stderr
    record = json.loads(from_file.stdout)
    assert record["name"] == "Fibonacci" and record["size"] == 5

    # When each is watched to the end
    watched = logged_in("watch", job_id, "--interval", "0.2")
    assert watched.returncode == 0, watched.stderr
    assert "completed" in watched.stdout.splitlines()[-1]
    assert "\r" not in watched.stdout  # not a TTY: plain lines
    assert logged_in("watch", record["id"], "--interval", "0.2").returncode == 0

    # Then status shows it completed, with counts and timestamps
    status = logged_in("status", job_id)
    assert status.returncode == 0, status.stderr
    assert f"job {job_id} (Fibonacci)" in status.stdout
    assert "completed 1" in status.stdout and "finished" in status.stdout
    as_json = json.loads(logged_in("status", record["id"], "--json").stdout)
    assert as_json["status"] == "completed" and as_json["completed"] == 5

    # And list shows both, newest first, filterable
    listing = logged_in("list", "--type", "Fibonacci", "--status", "completed")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["ID", "TYPE", "STATUS", "DONE/SIZE", "DEAD", "CREATED"]
    assert lines[1].split()[:4] == [record["id"], "Fibonacci", "completed", "5/5"]
    assert lines[2].split()[:4] == [job_id, "Fibonacci", "completed", "1/1"]
    assert len(logged_in("list", "--limit", "1").stdout.splitlines()) == 2


def test_idempotency_key_returns_the_same_job(logged_in: Cli) -> None:
    args = ("submit", "Fibonacci", "--data", '{"iterations": 3}', "--idempotency-key", "k-1")
    assert logged_in(*args).stdout == logged_in(*args).stdout


def test_bad_data_is_one_clear_line_and_no_request(cli: Cli, tmp_path: Path) -> None:
    # Given a jobs URL where nothing listens and no session at all:
    # any request or credentials lookup would produce a different error
    nowhere = f"http://127.0.0.1:{free_port()}/graphql"
    cases = {
        '{"iterations": ': "is not valid JSON",
        f"@{tmp_path / 'missing.json'}": "cannot read",
        "[1, 2]": "must be a JSON object or a non-empty list of objects",
    }
    for data, message in cases.items():
        result = cli("submit", "Fibonacci", "--data", data, "--jobs-url", nowhere)
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("workq: error: --data:") and message in result.stderr


def test_server_down_is_a_clear_message(logged_in: Cli) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/graphql"
    result = logged_in("status", "1", "--jobs-url", nowhere)
    assert result.returncode == 1
    assert f"cannot reach {nowhere}" in result.stderr
    assert "is Workq running? (`workq up`)" in result.stderr
    assert "Traceback" not in result.stderr


def test_login_to_a_server_that_is_down(cli: Cli) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/graphql"
    result = cli(
        "login", "--email", "a@example.com", "--password-stdin", "--auth-url", nowhere, stdin="x\n"
    )
    assert result.returncode == 1 and f"cannot reach {nowhere}" in result.stderr


def test_not_logged_in(cli: Cli, stack: Stack) -> None:
    result = cli("list", "--jobs-url", stack.jobs_url)
    assert result.returncode == 1
    assert result.stderr.strip() == "workq: error: not logged in; run `workq login`"


def test_tampered_token_means_the_session_expired(logged_in: Cli) -> None:
    saved = json.loads(logged_in.credentials.read_text())
    head, payload, signature = saved["token"].split(".")
    saved["token"] = ".".join([head, payload, signature[::-1]])
    logged_in.credentials.write_text(json.dumps(saved))
    result = logged_in("submit", "Fibonacci", "--data", '{"iterations": 1}')
    assert result.returncode == 1
    assert result.stderr.strip() == "workq: error: your session has expired; run `workq login`"


def test_unknown_job_name_lists_the_available_ones(logged_in: Cli) -> None:
    result = logged_in("submit", "Fibonnaci", "--data", '{"iterations": 1}')
    assert result.returncode == 1
    assert "Unknown job type 'Fibonnaci'" in result.stderr
    assert "available:" in result.stderr and "Fibonacci" in result.stderr


def test_unknown_job_id(logged_in: Cli) -> None:
    result = logged_in("watch", "999999")
    assert result.returncode == 1 and "no job '999999'" in result.stderr


def test_failed_items_are_shown_and_watch_exits_1(logged_in: Cli) -> None:
    # Given a job of two items that always fail, with one attempt each
    submitted = logged_in("submit", "AlwaysFails", "--data", "[{}, {}]")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    # When it is watched to the end
    watched = logged_in("watch", job_id, "--interval", "0.2")
    # Then watch says it failed (exit 1) and status names each dead item and its error
    assert watched.returncode == 1, watched.stdout + watched.stderr
    status = logged_in("status", job_id)
    assert status.returncode == 0, status.stderr
    assert "dead 2" in status.stdout
    assert "failed items:" in status.stdout
    for index in (0, 1):
        assert (
            f"#{index} dead after 1 attempt(s): ValueError: ValueError: this job always fails"
            in status.stdout
        ), status.stdout


def test_submit_with_a_delay_and_a_priority_is_scheduled(logged_in: Cli) -> None:
    submitted = logged_in(
        "submit", "Fibonacci", "--data", '{"iterations": 3}', "--delay", "2h", "--priority", "4"
    )
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()

    record = json.loads(logged_in("status", job_id, "--json").stdout)
    assert (record["status"], record["priority"]) == ("scheduled", 4)
    assert record["runAt"] is not None
    assert "run at" in logged_in("status", job_id).stdout


def test_bad_run_at_and_delay_are_clear_errors(logged_in: Cli) -> None:
    naive = logged_in("submit", "Fibonacci", "--data", "{}", "--run-at", "2030-01-01T09:00:00")
    assert naive.returncode == 1
    assert "runAt" in naive.stderr and "no UTC offset" in naive.stderr

    unit = logged_in("submit", "Fibonacci", "--data", "{}", "--delay", "5 weeks")
    assert unit.returncode == 2
    assert "is not a duration" in unit.stderr
