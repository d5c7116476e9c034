"""A small GraphQL-over-HTTP client for the Workq services, used by the CLI and the demo."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from typing import Any

from workq_core.errors import AuthError, Unavailable, WorkqError

COOKIE = "Authentication"


class GraphQLError(WorkqError):
    """The service answered with a GraphQL error."""

    def __init__(self, message: str, code: str | None = None, extensions: dict | None = None):
        super().__init__(message)
        self.code = code
        self.extensions = extensions or {}


class GraphQLClient:
    """POSTs documents as JSON; authenticates with a bearer token when it has one."""

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 30.0) -> None:
        self.url = url
        self.token = token
        self.timeout_s = timeout_s

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of the answer; the first error raised as a Workq error."""
        body, _headers = self.post(query, variables)
        errors = body.get("errors")
        if errors:
            first = errors[0]
            ext = first.get("extensions") or {}
            code = ext.get("code")
            if code == "UNAUTHENTICATED":
                raise AuthError(
                    f"{first.get('message', 'not authenticated')} (run `workq login` again)"
                )
            if code == "UNAVAILABLE":
                raise Unavailable(first.get("message", "service unavailable"))
            raise GraphQLError(first.get("message", "error"), code, ext)
        return body.get("data") or {}

    def post(self, query: str, variables: dict[str, Any] | None = None) -> tuple[dict, Any]:
        payload = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the user's configured service
            self.url,
            data=payload,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return json.loads(response.read()), response.headers
        except urllib.error.HTTPError as exc:
            try:
                return json.loads(exc.read()), exc.headers
            except ValueError:
                raise Unavailable(f"{self.url} answered HTTP {exc.code}") from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unavailable(
                f"cannot reach {self.url} ({reason}); is Workq running? (`workq up`)"
            ) from None


LOGIN = (
    """mutation Login($loginInput: LoginInput!) { login(loginInput: $loginInput) { id email } }"""
)
CREATE_USER = """mutation CreateUser($input: CreateUserInput!) {
  createUser(createUserInput: $input) { id email } }"""


def login(auth_url: str, email: str, password: str) -> str:
    """Log in and return the token the auth service set in its ``Authentication`` cookie."""
    client = GraphQLClient(auth_url)
    body, headers = client.post(LOGIN, {"loginInput": {"email": email, "password": password}})
    if body.get("errors"):
        error = body["errors"][0]
        raise AuthError(error.get("message", "login failed"))
    for header in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(header)
        if COOKIE in cookie and cookie[COOKIE].value:
            return cookie[COOKIE].value
    raise AuthError("the auth service did not set the Authentication cookie")


def create_user(auth_url: str, email: str, password: str) -> None:
    """Create a user; an existing one with that email is not an error here."""
    try:
        GraphQLClient(auth_url).execute(
            CREATE_USER, {"input": {"email": email, "password": password}}
        )
    except GraphQLError as exc:
        if exc.code != "BAD_USER_INPUT" or "already" not in exc.message.lower():
            raise
