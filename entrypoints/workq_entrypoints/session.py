"""The CLI client's saved session: credentials file, service URLs, an authenticated client."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import workq
from workq_core.errors import AuthError, WorkqError

DEFAULT_AUTH_URL = "http://127.0.0.1:3000/graphql"
DEFAULT_JOBS_URL = "http://127.0.0.1:3001/graphql"
AUTH_URL_ENV = "WORKQ_AUTH_URL"
JOBS_URL_ENV = "WORKQ_JOBS_URL"
CREDENTIALS_ENV = "WORKQ_CREDENTIALS"

Handler = Callable[[argparse.Namespace], int]


class NotLoggedIn(WorkqError):
    """not logged in; run `workq login`"""


class SessionExpired(AuthError):
    """your session has expired; run `workq login`"""


class InvalidData(WorkqError):
    """The job data given on the command line is not usable."""


@dataclass(frozen=True)
class Credentials:
    """What ``workq login`` saves: the token and where the services it belongs to are."""

    auth_url: str
    jobs_url: str
    email: str
    token: str


def credentials_path(env: dict[str, str] | None = None) -> Path:
    """``$WORKQ_CREDENTIALS``, else ``$XDG_CONFIG_HOME/workq/credentials.json``."""
    env = dict(os.environ) if env is None else env
    if env.get(CREDENTIALS_ENV):
        return Path(env[CREDENTIALS_ENV])
    config_home = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "workq" / "credentials.json"


def save_credentials(credentials: Credentials, path: Path | None = None) -> Path:
    """Write atomically; the file is born 0600 so the token is never readable by others."""
    path = path or credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(credentials), out, indent=2)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return path


def load_credentials(path: Path | None = None) -> Credentials:
    """The saved session; NotLoggedIn when there is none or it cannot be read."""
    path = path or credentials_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotLoggedIn() from None
    except (OSError, ValueError) as exc:
        raise NotLoggedIn(f"cannot read {path} ({exc}); run `workq login`") from None
    try:
        credentials = Credentials(
            **{k: str(raw[k]) for k in ("auth_url", "jobs_url", "email", "token")}
        )
    except (KeyError, TypeError):
        raise NotLoggedIn(f"{path} is incomplete; run `workq login`") from None
    if not credentials.token:
        raise NotLoggedIn()
    return credentials


def pick_url(flag: str | None, env_name: str, saved: str | None, default: str) -> str:
    """Flag, then environment, then what login saved, then the local default."""
    return flag or os.environ.get(env_name) or saved or default


def add_jobs_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs-url",
        metavar="URL",
        help=f"jobs GraphQL endpoint (env {JOBS_URL_ENV}; default: the URL saved at login, "
        f"else {DEFAULT_JOBS_URL})",
    )


def jobs_client(args: argparse.Namespace) -> workq.Client:
    """A client with the saved session's token, for the jobs URL the flags pick."""
    credentials = load_credentials()
    url = pick_url(
        getattr(args, "jobs_url", None), JOBS_URL_ENV, credentials.jobs_url, DEFAULT_JOBS_URL
    )
    return workq.Client(url, token=credentials.token)


class ClientFailed(WorkqError):
    """A call of the Workq API failed."""


def client_command(run: Handler, *, session: bool = True) -> Handler:
    """``run``, with the client's errors worded as the CLI's: one line, and what to do.

    With ``session`` a refused token is an expired session; without (``login``)
    it is the auth service's own message, a wrong password.
    """

    @functools.wraps(run)
    def handler(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except workq.Unauthenticated as exc:
            if session:
                raise SessionExpired() from None
            raise ClientFailed(exc.message) from None
        except workq.Unreachable as exc:
            raise ClientFailed(f"{exc.message}; is Workq running? (`workq up`)") from None
        except workq.WorkqClientError as exc:
            raise ClientFailed(exc.message) from None

    return handler
