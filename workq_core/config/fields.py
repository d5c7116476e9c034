"""Declaring settings fields, and turning raw values into their declared types."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from workq_core.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def setting(
    default: Any,
    help: str,
    *,
    env: str | None = None,
    secret: bool = False,
    choices: tuple[str, ...] | None = None,
    min: float | None = None,
    max: float | None = None,
) -> Any:
    """A settings field with its help text, legacy env alias, and validation bounds."""
    meta = {"help": help, "env": env, "secret": secret, "choices": choices, "min": min, "max": max}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple for sequence defaults; sections are frozen")
    return dataclasses.field(default=default, metadata=meta)


def field_types(cls: type) -> dict[str, Any]:
    """Resolved annotations of a settings dataclass (they are strings under PEP 563)."""
    return typing.get_type_hints(cls)


def convert(value: Any, annotation: Any, where: str, meta: dict[str, Any]) -> Any:
    """Coerce ``value`` (a TOML value or a string from env/flags) to ``annotation``."""
    optional = _is_optional(annotation)
    base = _strip_optional(annotation)
    if optional and (
        value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto", "none"))
    ):
        return None
    if base is bool:
        result: Any = _to_bool(value, where)
    elif base is int:
        result = _to_number(value, int, "an integer", where)
    elif base is float:
        result = _to_number(value, float, "a number", where)
    elif base is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        result = value
    elif typing.get_origin(base) is tuple:
        result = _to_str_tuple(value, where)
    else:  # pragma: no cover - a section declared a type this loader does not know
        raise ConfigError(f"{where}: unsupported setting type {annotation!r}")
    _check_bounds(result, where, meta)
    return result


def _is_optional(annotation: Any) -> bool:
    return isinstance(annotation, types.UnionType) and type(None) in typing.get_args(annotation)


def _strip_optional(annotation: Any) -> Any:
    if _is_optional(annotation):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner
    return annotation


def _to_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def _to_number(value: Any, kind: type, expected: str, where: str) -> Any:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected {expected}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, str):
        if kind is int and not float(value).is_integer():
            raise ConfigError(f"{where}: expected {expected}, got {value!r}")
        return kind(value)
    try:
        return kind(str(value).strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{where}: expected {expected}, got {value!r}") from None


def _to_str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(
        f"{where}: expected a list of names (or a comma-separated string), got {value!r}"
    )


def _check_bounds(value: Any, where: str, meta: dict[str, Any]) -> None:
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
    low, high = meta.get("min"), meta.get("max")
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric and ((low is not None and value < low) or (high is not None and value > high)):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{where}: expected a number {bounds}, got {value!r}")
