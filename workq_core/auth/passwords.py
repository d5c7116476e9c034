"""Email and password rules, and bcrypt hashing that takes the same time for unknown users."""

from __future__ import annotations

import re
import unicodedata

import bcrypt

from workq_core.errors import InvalidPayload

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it
MAX_EMAIL_CHARS = 254
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(email: str) -> str:
    """The stored form: NFC, trimmed, lower case (emails are unique regardless of case)."""
    return unicodedata.normalize("NFC", email).strip().lower()


def validate_email(email: str) -> str:
    """The normalised email, or InvalidPayload naming the field."""
    normalized = normalize_email(email)
    if (
        len(normalized) > MAX_EMAIL_CHARS
        or not _EMAIL.match(normalized)
        or any(unicodedata.category(c).startswith("C") for c in normalized)
    ):
        raise InvalidPayload("Email is not a valid email address.", field="email")
    return normalized


def validate_password(password: str, field: str = "password") -> bytes:
    """The password as UTF-8 bytes, or InvalidPayload (never bcrypt's ValueError)."""
    encoded = password.encode("utf-8")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidPayload(
            f"Password must be at least {MIN_PASSWORD_CHARS} characters.", field=field
        )
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise InvalidPayload(
            f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8.", field=field
        )
    return encoded


class PasswordHasher:
    """bcrypt at a configured cost, with a dummy hash so misses cost as much as hits."""

    def __init__(self, cost: int) -> None:
        self.cost = cost
        self._dummy = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(cost))

    def hash(self, password: bytes) -> str:
        return bcrypt.hashpw(password, bcrypt.gensalt(self.cost)).decode("ascii")

    def check(self, password: str, hashed: str | None) -> bool:
        """Whether ``password`` matches; always runs one bcrypt round of the same cost."""
        encoded = password.encode("utf-8")
        usable = hashed is not None and len(encoded) <= MAX_PASSWORD_BYTES
        target = hashed.encode("ascii") if usable and hashed else self._dummy
        candidate = encoded if len(encoded) <= MAX_PASSWORD_BYTES else b"too-long-password"
        try:
            matched = bcrypt.checkpw(candidate, target)
        except ValueError:  # a corrupt stored hash
            return False
        return matched and usable
