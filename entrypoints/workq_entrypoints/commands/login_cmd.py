"""``workq login``: exchange email and password for a token, saved for the other commands."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

import workq
from workq_core.errors import WorkqError
from workq_entrypoints.session import (
    AUTH_URL_ENV,
    DEFAULT_AUTH_URL,
    DEFAULT_JOBS_URL,
    JOBS_URL_ENV,
    Credentials,
    add_jobs_url,
    client_command,
    pick_url,
    save_credentials,
)


class MissingInput(WorkqError):
    """Missing input."""


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "login",
        help="log in to a Workq auth service and save the session",
        description="Log in and save the token (and the service URLs) in "
        "$XDG_CONFIG_HOME/workq/credentials.json (mode 0600; env WORKQ_CREDENTIALS overrides).",
    )
    parser.add_argument("--email", help="your email (prompted for when omitted)")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (for scripts); otherwise it is prompted for",
    )
    parser.add_argument(
        "--auth-url",
        metavar="URL",
        help=f"auth GraphQL endpoint (env {AUTH_URL_ENV}, default {DEFAULT_AUTH_URL})",
    )
    add_jobs_url(parser)
    parser.set_defaults(handler=client_command(run, session=False))


def run(args: argparse.Namespace) -> int:
    auth_url = pick_url(args.auth_url, AUTH_URL_ENV, None, DEFAULT_AUTH_URL)
    jobs_url = pick_url(args.jobs_url, JOBS_URL_ENV, None, DEFAULT_JOBS_URL)
    email = args.email or _prompt_email()
    password = _read_password(args.password_stdin)
    with workq.Client(jobs_url, auth_url) as client:
        token = client.login(email, password)
    path = save_credentials(Credentials(auth_url, jobs_url, email, token))
    print(f"logged in as {email} (session saved in {path})")
    return 0


def _prompt_email() -> str:
    if not sys.stdin.isatty():
        raise MissingInput("no email: pass --email when not running interactively")
    email = input("Email: ").strip()
    if not email:
        raise MissingInput("no email given")
    return email


def _read_password(from_stdin: bool) -> str:
    """Never from argv: a flag's value shows in ``ps`` and shell history."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        raise MissingInput("no password: use --password-stdin when not running interactively")
    if not password:
        raise MissingInput("no password given")
    return password
