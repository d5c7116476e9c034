"""The ``JSON`` scalar: any finite JSON value, from variables and from inline literals."""

from __future__ import annotations

import math
from typing import Any

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema, ValueNode
from graphql.utilities import value_from_ast_untyped


def bind_json_scalar(schema: GraphQLSchema, name: str = "JSON") -> None:
    """Give the SDL's ``scalar JSON`` its parse and serialise functions."""
    scalar = schema.type_map[name]
    assert isinstance(scalar, GraphQLScalarType)
    scalar.serialize = _identity  # type: ignore[method-assign]
    scalar.parse_value = _parse_value  # type: ignore[method-assign]
    scalar.parse_literal = _parse_literal  # type: ignore[method-assign]


def _identity(value: Any) -> Any:
    return value


def _parse_value(value: Any) -> Any:
    _check_finite(value)
    return value


def _parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    """Inline objects and lists (``data: {iterations: 3}``), variables inside them included."""
    return _parse_value(value_from_ast_untyped(node, variables))


def _check_finite(value: Any) -> None:
    """NaN and Infinity are not JSON (``1e999`` parses as infinity); refuse them up front."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, float) and not math.isfinite(current):
            raise GraphQLError("JSON numbers must be finite.")
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
