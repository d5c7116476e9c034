"""SDL-first schemas: load a ``.graphql`` file and bind resolvers to it by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, build_schema

Resolvers = Mapping[str, Mapping[str, Callable[..., Any]]]
"""``{"Query": {"users": resolve_users}, "Mutation": {...}}``."""


def load_schema(package: str, filename: str, resolvers: Resolvers) -> GraphQLSchema:
    """Build the schema in ``package``'s data file ``filename`` and bind ``resolvers``.

    Binding fails loudly for a type or field the SDL does not declare, so a
    renamed field cannot silently lose its resolver.
    """
    sdl = files(package).joinpath(filename).read_text(encoding="utf-8")
    schema = build_schema(sdl)
    for type_name, fields in resolvers.items():
        graphql_type = schema.type_map.get(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            raise ValueError(f"{filename}: no object type {type_name!r} to bind resolvers to")
        for field_name, resolver in fields.items():
            if field_name not in graphql_type.fields:
                raise ValueError(f"{filename}: {type_name} has no field {field_name!r}")
            graphql_type.fields[field_name].resolve = resolver
    return schema
