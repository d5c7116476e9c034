"""The ``jwt`` auth backend: signed tokens with required claims and one fixed algorithm."""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from workq_core import (
    AuthError,
    ComponentContext,
    ConfigError,
    IssuedToken,
    Registry,
    TokenClaims,
    hookimpl,
    setting,
)

logger = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
SECRET_FILE = "jwt_secret"  # noqa: S105 - a file name, not a secret
REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud"]
VERSION_CLAIM = "ver"


@dataclass(frozen=True)
class JwtSettings:
    """Section ``[jwt]``."""

    secret: str = setting(
        "",
        f"HMAC key, at least {MIN_SECRET_BYTES} bytes; local mode creates one in core.data_dir",
        env="JWT_SECRET",
        secret=True,
    )
    expiration_ms: int = setting(
        3_600_000, "token lifetime, milliseconds", env="JWT_EXPIRATION_MS", min=1000
    )
    issuer: str = setting("workq-auth", "iss claim issued and required")
    audience: str = setting("workq", "aud claim issued and required")
    leeway_s: int = setting(30, "clock skew tolerated on exp and iat, seconds", min=0, max=300)
    algorithm: str = setting(
        "HS256", "the one accepted signing algorithm", choices=("HS256", "HS384", "HS512")
    )


class JwtAuthBackend:
    """Issues and verifies JWTs signed with one shared secret and one algorithm.

    Only ``algorithm`` is accepted on verify: ``none`` and every other
    algorithm (including asymmetric ones, the classic key-confusion attack)
    are rejected. ``sub``, ``iat``, ``exp``, ``iss`` and ``aud`` are required.
    """

    def __init__(self, settings: JwtSettings, secret: bytes) -> None:
        self.settings = settings
        self._secret = secret

    def issue(self, user_id: int, token_version: int) -> IssuedToken:
        now = int(time.time())
        lifetime_s = max(1, self.settings.expiration_ms // 1000)
        claims = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + lifetime_s,
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "jti": secrets.token_urlsafe(12),
            VERSION_CLAIM: token_version,
        }
        token = jwt.encode(claims, self._secret, algorithm=self.settings.algorithm)
        return IssuedToken(token=token, expires_in_s=lifetime_s)

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.settings.algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_s,
                options={"require": REQUIRED_CLAIMS, "verify_iat": True},
            )
            return TokenClaims(user_id=_int_claim(claims, "sub"), token_version=_version(claims))
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise AuthError("Invalid token.") from None


def _int_claim(claims: dict[str, Any], name: str) -> int:
    value = claims[name]
    if not isinstance(value, str) or not value.isdigit():
        raise ValueError(f"{name} is not a user id")
    return int(value)


def _version(claims: dict[str, Any]) -> int:
    value = claims.get(VERSION_CLAIM, 0)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("ver is not an integer")
    return value


def load_secret(settings: JwtSettings, *, local: bool, data_dir: Path) -> bytes:
    """The configured secret; in local mode without one, a persistent generated one.

    Outside local mode a missing or short secret stops start-up: a guessable
    key would let anyone mint tokens.
    """
    if settings.secret:
        secret = settings.secret.encode("utf-8")
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"jwt.secret (JWT_SECRET) must be at least {MIN_SECRET_BYTES} bytes, "
                f"got {len(secret)}"
            )
        return secret
    if not local:
        raise ConfigError(
            "jwt.secret is not set: set JWT_SECRET (at least "
            f"{MIN_SECRET_BYTES} bytes) or run in local mode"
        )
    return _local_secret(data_dir / SECRET_FILE)


def _local_secret(path: Path) -> bytes:
    """Read ``path``, or create it atomically (mode 0600) so concurrent starts agree."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    value = secrets.token_urlsafe(48).encode("ascii")  # 48 random bytes
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp_fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(tmp_fd, "wb") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # readers see the whole secret or wait for it
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)
    logger.info("created local jwt secret", extra={"path": str(path)})
    return value


def _read_secret(path: Path) -> bytes:
    for _ in range(50):  # another process created the file and is writing it
        value = path.read_bytes().strip()
        if len(value) >= MIN_SECRET_BYTES:
            return value
        time.sleep(0.02)
    raise ConfigError(f"jwt.secret: {path} holds fewer than {MIN_SECRET_BYTES} bytes")


def create_backend(ctx: ComponentContext) -> JwtAuthBackend:
    settings: JwtSettings = ctx.settings.section("jwt")
    core = ctx.settings.core
    secret = load_secret(settings, local=core.local, data_dir=Path(core.data_dir))
    return JwtAuthBackend(settings, secret)


@hookimpl
def workq_register_config_sections(registry: Registry[type]) -> None:
    registry.add("jwt", JwtSettings)


@hookimpl
def workq_register_auth_backends(registry: Registry[Any]) -> None:
    registry.add("jwt", create_backend)
