"""What every resolver gets as ``info.context``: the request, its user, and cookie helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import falcon

from workq_core.errors import AuthError
from workq_core.web.cookies import clear_auth_cookie, request_token, set_auth_cookie

Authenticate = Callable[[str], Any]
"""``authenticate(token) -> user``; returns None or raises AuthError for a token it rejects."""

_UNSET = object()


@dataclass
class RequestContext:
    """Per-request state; the user is looked up on first use, at most once."""

    request: falcon.Request
    response: falcon.Response
    authenticate: Authenticate
    cookie_secure: bool
    extra: dict[str, Any] = field(default_factory=dict)
    _user: Any = field(default=_UNSET, repr=False)

    @property
    def client_addr(self) -> str:
        """The peer address; forwarded headers are not trusted."""
        return self.request.remote_addr or "unknown"

    @property
    def token(self) -> str | None:
        return request_token(self.request)

    @property
    def user(self) -> Any | None:
        """The authenticated user, or None; Unavailable propagates (deny, never allow)."""
        if self._user is _UNSET:
            token = self.token
            try:
                self._user = self.authenticate(token) if token else None
            except AuthError:
                self._user = None
        return self._user

    def require_user(self) -> Any:
        user = self.user
        if user is None:
            raise AuthError("Not authenticated.")
        return user

    def set_auth_cookie(self, token: str, max_age_s: int) -> None:
        set_auth_cookie(self.response, token, max_age_s, secure=self.cookie_secure)

    def clear_auth_cookie(self) -> None:
        clear_auth_cookie(self.response, secure=self.cookie_secure)
        self._user = None
