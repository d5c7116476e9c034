"""The ``Authentication`` cookie: how it is set, cleared and read."""

from __future__ import annotations

import datetime as dt

import falcon

COOKIE_NAME = "Authentication"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def set_auth_cookie(
    resp: falcon.Response,
    token: str,
    max_age_s: int,
    *,
    secure: bool,
    expires: dt.datetime | None = None,
) -> None:
    resp.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age_s or None,
        expires=expires,
        path="/",
        secure=secure,
        http_only=True,
        same_site="Lax",
    )


def clear_auth_cookie(resp: falcon.Response, *, secure: bool) -> None:
    """Expire the cookie with the same attributes (falcon drops a zero Max-Age)."""
    set_auth_cookie(resp, "", 0, secure=secure, expires=_EPOCH)


def request_token(req: falcon.Request) -> str | None:
    """The bearer token from ``Authorization: Bearer``, else from the cookie."""
    header = req.get_header("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    values = req.get_cookie_values(COOKIE_NAME)
    return values[0] if values else None
