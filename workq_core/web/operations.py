"""Run one GraphQL request under the configured limits and shape the answer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import falcon
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from workq_core.config import GraphQLSettings
from workq_core.errors import WorkqError
from workq_core.web.body import RequestRejected
from workq_core.web.errors import format_error, request_error
from workq_core.web.limits import LimitExceeded, check_limits


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None

    @classmethod
    def from_params(cls, params: Any) -> GraphQLRequest:
        """Validate the ``query`` / ``variables`` / ``operationName`` members of a request."""
        if not isinstance(params, dict):
            raise RequestRejected(falcon.HTTP_400, "Expected one JSON object (no batching).")
        query = params.get("query")
        variables = params.get("variables")
        operation_name = params.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise RequestRejected(falcon.HTTP_400, "Missing 'query' string.")
        if variables is not None and not isinstance(variables, dict):
            raise RequestRejected(falcon.HTTP_400, "'variables' must be a JSON object.")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestRejected(falcon.HTTP_400, "'operationName' must be a string.")
        return cls(query, variables, operation_name)


class DocumentRejected(WorkqError):
    """A document that failed parsing, limits or validation; ``errors`` is the response."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("rejected")
        self.errors = errors


@lru_cache(maxsize=512)
def _checked_document(
    schema: GraphQLSchema,
    query: str,
    introspection: bool,
    max_tokens: int,
    max_depth: int,
    max_aliases: int,
) -> DocumentNode:
    """Parse, limit-check and validate a document once; clients repeat the same few.

    Only documents that pass are cached (a raised exception is not), so a
    stream of distinct bad documents cannot evict the good ones for long, and
    parsing plus validation drop out of the per-request cost.
    """
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as exc:
        raise DocumentRejected([request_error(exc.message, "GRAPHQL_PARSE_FAILED")]) from None
    try:
        check_limits(document, max_depth=max_depth, max_aliases=max_aliases)
    except LimitExceeded as exc:
        raise DocumentRejected([request_error(str(exc), "GRAPHQL_VALIDATION_FAILED")]) from None
    rules = list(specified_rules)
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    errors = validate(schema, document, rules, max_errors=20, hide_suggestions=True)
    if errors:
        raise DocumentRejected([_validation(e) for e in errors])
    return document


def checked_operation(
    schema: GraphQLSchema, request: GraphQLRequest, limits: GraphQLSettings
) -> tuple[DocumentNode, OperationDefinitionNode]:
    """The request's document, checked against ``limits`` and validated, and its operation.

    Raises DocumentRejected, whose ``errors`` say why, for anything that must not run.
    """
    document = _checked_document(
        schema,
        request.query,
        limits.introspection,
        limits.max_tokens,
        limits.max_depth,
        limits.max_aliases,
    )
    operation = get_operation_ast(document, request.operation_name)
    if operation is None:
        raise DocumentRejected([request_error("Unknown or ambiguous operation.", "BAD_REQUEST")])
    return document, operation


def run_graphql(
    schema: GraphQLSchema,
    request: GraphQLRequest,
    context: Any,
    limits: GraphQLSettings,
    *,
    refuse_mutations: RequestRejected | None = None,
) -> tuple[str, dict[str, Any]]:
    """``(http status, body)``; with ``refuse_mutations`` only queries run, else it is raised."""
    try:
        document, operation = checked_operation(schema, request, limits)
    except DocumentRejected as rejected:
        return falcon.HTTP_400, {"errors": rejected.errors}
    if operation.operation != OperationType.QUERY and refuse_mutations is not None:
        raise refuse_mutations
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=request.variables,
        operation_name=request.operation_name,
        hide_suggestions=True,
    )
    if not isinstance(result, ExecutionResult):  # resolvers are synchronous: never awaitable
        raise TypeError(f"GraphQL execution did not complete synchronously: {result!r}")
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    body["data"] = result.data
    # Only errors before execution (variables that do not coerce) fail the request.
    before_execution = result.data is None and all(e.path is None for e in result.errors or ())
    status = falcon.HTTP_400 if before_execution and result.errors else falcon.HTTP_200
    return status, body


def _validation(error: GraphQLError) -> dict[str, Any]:
    shaped = request_error(error.message, "GRAPHQL_VALIDATION_FAILED")
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return shaped
