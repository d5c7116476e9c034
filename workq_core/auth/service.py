"""The auth service's operations: sign up, log in and out, change password, authenticate."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from workq_core.auth.passwords import (
    PasswordHasher,
    normalize_email,
    validate_email,
    validate_password,
)
from workq_core.auth.ratelimit import LoginLimiter
from workq_core.auth.users import User, UserStore
from workq_core.errors import AuthError, InvalidPayload
from workq_core.types import AuthBackend, IssuedToken

logger = logging.getLogger(__name__)

INVALID_CREDENTIALS = "Invalid email or password."


@dataclass
class AuthService:
    """Users and tokens; one instance serves the HTTP and gRPC front ends."""

    users: UserStore
    backend: AuthBackend
    hasher: PasswordHasher
    limiter: LoginLimiter

    def create_user(self, email: str, password: str) -> User:
        normalized = validate_email(email)
        user = self.users.create(normalized, self.hasher.hash(validate_password(password)))
        logger.info("user created", extra={"user_id": user.id})
        return user

    def login(self, email: str, password: str, client_addr: str) -> tuple[User, IssuedToken]:
        """Unknown email and wrong password fail alike, in about the same time."""
        keys = [f"email:{normalize_email(email)}", f"addr:{client_addr}"]
        counted = self.limiter.attempt(keys)
        found = self._registered(email)
        if not self.hasher.check(password, found[1] if found else None) or found is None:
            logger.warning("login failed", extra={"client": client_addr})
            raise AuthError(INVALID_CREDENTIALS)
        self.limiter.succeeded(counted)
        user = found[0]
        logger.info("login", extra={"user_id": user.id})
        return user, self.backend.issue(user.id, user.token_version)

    def _registered(self, email: str) -> tuple[User, str] | None:
        """The user and hash for ``email``; one that sign-up would refuse is never looked up.

        Such an email cannot be registered, and some (NUL, say) make the
        driver fail instead of matching nothing.
        """
        try:
            normalized = validate_email(email)
        except InvalidPayload:
            return None
        return self.users.by_email(normalized)

    def authenticate(self, token: str) -> User | None:
        """The token's user while the token is valid and not revoked, else None."""
        try:
            claims = self.backend.verify(token)
        except AuthError:
            return None
        user = self.users.by_id(claims.user_id)
        if user is None or user.token_version != claims.token_version:
            return None
        return user

    def logout(self, user: User) -> None:
        """Every token issued to ``user`` so far stops working."""
        self.users.revoke_tokens(user.id)
        logger.info("logout", extra={"user_id": user.id})

    def change_password(self, user: User, current: str, new: str) -> IssuedToken:
        """Set a new password, revoke earlier tokens, and issue a fresh one."""
        encoded = validate_password(new, field="newPassword")
        if not self.hasher.check(current, self.users.password_hash(user.id)):
            raise AuthError(INVALID_CREDENTIALS)
        self.users.revoke_tokens(user.id, self.hasher.hash(encoded))
        logger.info("password changed", extra={"user_id": user.id})
        return self.backend.issue(user.id, user.token_version + 1)
