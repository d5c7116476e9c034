"""The one error hierarchy of Workq; each error is handled once, at the edge."""

from __future__ import annotations


class WorkqError(Exception):
    """Something went wrong in Workq."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(WorkqError):
    """The configuration is invalid."""


class PluginError(WorkqError):
    """A plugin could not be loaded or registered."""


class DuplicateName(PluginError):
    """Two plugins registered the same name."""


class UnknownName(ConfigError):
    """No installed plugin provides that name."""


class JobTypeNotFound(WorkqError):
    """No installed plugin provides that job type."""


class InvalidPayload(WorkqError):
    """A job item does not match its job type's input schema."""

    def __init__(self, message: str, *, item: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.item = item
        self.field = field


class AuthError(WorkqError):
    """Not authenticated."""


class RateLimited(WorkqError):
    """Too many attempts; try again later."""


class Unavailable(WorkqError):
    """A service Workq depends on is unavailable; try again later."""


class TransportError(WorkqError):
    """The message transport failed."""


class RetryLater(WorkqError):
    """Raised by a job handler to ask for a retry without counting it as a crash."""
