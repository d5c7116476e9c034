"""GraphQL over HTTP for both clients: what a response or a transport failure means."""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

import httpx
from httpx import codes

from workq.errors import (
    BadInput,
    RateLimited,
    ServerError,
    Unauthenticated,
    Unavailable,
    Unreachable,
    WorkqClientError,
    from_graphql,
)
from workq.operations import Operation

T = TypeVar("T")

COOKIE = "Authentication"
HEADERS = {"Accept": "application/json"}


def no_cookies() -> CookieJar:
    """A jar that keeps nothing: the token travels only as a bearer header.

    A jar would keep the login cookie and send it to every service on the
    host, and a request would then authenticate by whichever it happened to carry.
    """
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def result(response: httpx.Response, url: str, op: Operation[T]) -> T:
    """The operation's value from its response, or the typed error the response means."""
    return op.read(data(response, url, op.job_id, op.schedule_id), url)


def data(
    response: httpx.Response,
    url: str,
    job_id: str | None = None,
    schedule_id: str | None = None,
) -> dict[str, Any]:
    """The answer's ``data``; its first error, or an HTTP failure, raised as a typed error.

    Errors of a refused request (HTTP 4xx, 5xx) are not about a field of the
    result, so their messages say which URL answered what.
    """
    try:
        payload = response.json()
    except ValueError:
        raise http_error(response, url) from None
    if not isinstance(payload, dict):
        raise http_error(response, url)
    errors = payload.get("errors")
    if errors and isinstance(errors, list) and isinstance(errors[0], dict):
        first = errors[0]
        if response.status_code != codes.OK:
            first = {**first, "message": f"{_answered(response, url)}: {first.get('message')}"}
        raise from_graphql(first, url, job_id, schedule_id)
    if response.status_code != codes.OK or not isinstance(payload.get("data"), dict):
        raise http_error(response, url)
    answer: dict[str, Any] = payload["data"]
    return answer


def http_error(response: httpx.Response, url: str) -> WorkqClientError:
    """An answer that is not the API's (a proxy's error page, the wrong URL)."""
    status, answered = response.status_code, _answered(response, url)
    if status == codes.REQUEST_ENTITY_TOO_LARGE:
        return BadInput(f"{answered}: the request is too large", code="PAYLOAD_TOO_LARGE", url=url)
    if status == codes.TOO_MANY_REQUESTS:
        return RateLimited(f"{answered}; try again later", url=url)
    if status == codes.UNAUTHORIZED:
        return Unauthenticated(answered, url=url)
    if status in (codes.BAD_GATEWAY, codes.SERVICE_UNAVAILABLE, codes.GATEWAY_TIMEOUT):
        return Unavailable(f"{answered}; try again later", url=url)
    if status >= codes.INTERNAL_SERVER_ERROR:
        return ServerError(answered, url=url)
    return WorkqClientError(
        f"{answered}, which is not a Workq GraphQL answer; is the URL right?", url=url
    )


def transport_error(exc: httpx.HTTPError, url: str) -> WorkqClientError:
    """What a failure below HTTP means: nothing listening, or no (complete) answer."""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return Unreachable(f"cannot reach {url} (connecting timed out)", url=url)
    if isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol):
        return Unreachable(f"cannot reach {url} ({reason})", url=url)
    if isinstance(exc, httpx.TimeoutException):
        return Unavailable(f"{url} did not answer in time ({reason})", url=url)
    return Unavailable(f"{url} gave no complete answer ({reason})", url=url)


def unreachable(url: str, exc: BaseException) -> Unreachable:
    """A WebSocket that could not be opened: nothing listening, or no handshake in time."""
    return Unreachable(f"cannot reach {url} ({exc or type(exc).__name__})", url=url)


def login_token(response: httpx.Response, url: str) -> str:
    """The token the auth service set in its ``Authentication`` cookie on login."""
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            continue
        if COOKIE in cookie and cookie[COOKIE].value:
            return cookie[COOKIE].value
    raise ServerError(f"{url} answered login without setting the {COOKIE} cookie", url=url)


def _answered(response: httpx.Response, url: str) -> str:
    return f"{url} answered HTTP {response.status_code} {response.reason_phrase}".rstrip()
