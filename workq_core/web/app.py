"""The falcon app factory every Workq GraphQL service uses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import falcon
from graphql import GraphQLSchema

from workq_core.config import GraphQLSettings
from workq_core.web.body import RequestRejected, parse_json, read_body
from workq_core.web.context import Authenticate, RequestContext
from workq_core.web.errors import request_error
from workq_core.web.graphiql import GRAPHIQL_HTML, wants_html
from workq_core.web.operations import GraphQLRequest, run_graphql
from workq_core.web.origin import cross_origin_refused, foreign_cookie_request

ContextFactory = Callable[[falcon.Request], dict[str, Any]]


def mutation_by_get_refused() -> RequestRejected:
    return RequestRejected(
        falcon.HTTP_405, "Mutations need POST with application/json.", "METHOD_NOT_ALLOWED"
    )


def create_app(
    limits: GraphQLSettings,
    schema: GraphQLSchema,
    authenticate: Authenticate,
    *,
    cookie_secure: bool = True,
    context_factory: ContextFactory | None = None,
    middleware: Iterable[Any] = (),
    path: str = "/graphql",
) -> falcon.App:
    """A WSGI app serving ``schema`` at ``path`` under ``limits``.

    ``authenticate(token)`` turns the request's bearer token (header or
    ``Authentication`` cookie) into the user resolvers see as
    ``info.context.user``; ``context_factory(req)`` adds service-specific
    entries to ``info.context.extra``.
    """
    app = falcon.App(middleware=[SecurityHeaders(), *middleware])
    resource = GraphQLResource(limits, schema, authenticate, cookie_secure, context_factory)
    app.add_route(path, resource)
    return app


class SecurityHeaders:
    """Responses are never cached or sniffed as another type."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool
    ) -> None:
        resp.set_header("Cache-Control", "no-store")
        resp.set_header("X-Content-Type-Options", "nosniff")


class GraphQLResource:
    """``POST`` runs any operation from an ``application/json`` body; ``GET`` runs queries only.

    Mutations through forms, ``text/plain`` or GET are refused: a cross-site
    page can send those without a CORS preflight, carrying the cookie. So is a
    mutation authenticated by the cookie whose ``Origin`` is neither this
    service's nor in ``graphql.allowed_origins`` (see ``web.origin``).
    """

    def __init__(
        self,
        limits: GraphQLSettings,
        schema: GraphQLSchema,
        authenticate: Authenticate,
        cookie_secure: bool,
        context_factory: ContextFactory | None,
    ) -> None:
        self.limits = limits
        self.cookie_secure = cookie_secure
        self.schema = schema
        self.authenticate = authenticate
        self.context_factory = context_factory

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        limits = self.limits
        try:
            if (req.content_type or "").split(";")[0].strip().lower() != "application/json":
                raise RequestRejected(
                    falcon.HTTP_415, "Use Content-Type: application/json.", "UNSUPPORTED_MEDIA_TYPE"
                )
            params = parse_json(read_body(req, limits.max_body_bytes), limits.max_json_depth)
            refusal = (
                cross_origin_refused()
                if foreign_cookie_request(req, limits.allowed_origins)
                else None
            )
            self._run(req, resp, GraphQLRequest.from_params(params), refusal)
        except RequestRejected as exc:
            _reject(resp, exc)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limits = self.limits
        try:
            query = req.get_param("query")
            if query is None:
                if wants_html(req.get_header("Accept")):
                    resp.content_type = falcon.MEDIA_HTML
                    resp.text = GRAPHIQL_HTML
                    return
                raise RequestRejected(falcon.HTTP_400, "Missing 'query' parameter.")
            raw_variables = req.get_param("variables")
            params = {
                "query": query,
                "variables": parse_json(raw_variables, limits.max_json_depth)
                if raw_variables
                else None,
                "operationName": req.get_param("operationName"),
            }
            self._run(req, resp, GraphQLRequest.from_params(params), mutation_by_get_refused())
        except RequestRejected as exc:
            _reject(resp, exc)

    def _run(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        request: GraphQLRequest,
        refuse_mutations: RequestRejected | None,
    ) -> None:
        extra = self.context_factory(req) if self.context_factory else {}
        context = RequestContext(req, resp, self.authenticate, self.cookie_secure, extra)
        status, body = run_graphql(
            self.schema,
            request,
            context,
            self.limits,
            refuse_mutations=refuse_mutations,
        )
        resp.status = status
        _json(resp, body)


def _reject(resp: falcon.Response, exc: RequestRejected) -> None:
    resp.status = exc.status
    if exc.status == falcon.HTTP_405:
        resp.set_header("Allow", "POST")
    _json(resp, {"errors": [request_error(exc.message, exc.code)]})


def _json(resp: falcon.Response, body: dict[str, Any]) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(body, separators=(",", ":"), allow_nan=False)
