"""Run one GraphQL request under the configured limits and shape the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon
from graphql import (
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from workq_core.config import GraphQLSettings
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
        document = parse(request.query, max_tokens=limits.max_tokens)
    except GraphQLSyntaxError as exc:
        return falcon.HTTP_400, {"errors": [request_error(exc.message, "GRAPHQL_PARSE_FAILED")]}
    try:
        check_limits(document, max_depth=limits.max_depth, max_aliases=limits.max_aliases)
    except LimitExceeded as exc:
        return falcon.HTTP_400, {"errors": [request_error(str(exc), "GRAPHQL_VALIDATION_FAILED")]}
    rules = list(specified_rules)
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    errors = validate(schema, document, rules, max_errors=20, hide_suggestions=True)
    if errors:
        return falcon.HTTP_400, {"errors": [_validation(e) for e in errors]}
    operation = get_operation_ast(document, request.operation_name)
    if operation is None:
        return falcon.HTTP_400, {
            "errors": [request_error("Unknown or ambiguous operation.", "BAD_REQUEST")]
        }
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
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    body["data"] = result.data
    # Only errors before execution (variables that do not coerce) fail the request.
    rejected = result.data is None and all(e.path is None for e in result.errors or ())
    status = falcon.HTTP_400 if rejected and result.errors else falcon.HTTP_200
    return status, body


def _validation(error: GraphQLError) -> dict[str, Any]:
    shaped = request_error(error.message, "GRAPHQL_VALIDATION_FAILED")
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return shaped
