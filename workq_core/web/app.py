"""The falcon ASGI app factory every Workq GraphQL service uses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import falcon
import falcon.asgi
from graphql import GraphQLSchema

from workq_core.config import GraphQLSettings, SubscriptionsSettings
from workq_core.web.assets import STATIC_PREFIX, StaticFiles, render_page
from workq_core.web.body import RequestRejected, parse_json, read_body
from workq_core.web.context import Authenticate, RequestContext
from workq_core.web.errors import request_error
from workq_core.web.graphiql import GRAPHIQL_PAGE, wants_html
from workq_core.web.observe import observed
from workq_core.web.operations import GraphQLRequest, run_graphql
from workq_core.web.origin import cross_origin_refused, foreign_cookie_request
from workq_core.web.subscriptions import Source, SubscriptionEndpoint

T = TypeVar("T")
ContextFactory = Callable[[falcon.Request], dict[str, Any]]
Cleanup = Callable[[], None]


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
    cleanup: Cleanup | None = None,
    body_timeout_s: float = 30.0,
    threads: int = 32,
    middleware: Iterable[Any] = (),
    path: str = "/graphql",
    service: str = "graphql",
    routes: Mapping[str, object] | None = None,
    sources: Mapping[str, Source] | None = None,
    subscriptions: SubscriptionsSettings | None = None,
) -> falcon.asgi.App:
    """An ASGI app serving ``schema`` at ``path`` under ``limits``.

    ``authenticate(token)`` turns the request's bearer token (header or
    ``Authentication`` cookie) into the user resolvers see as
    ``info.context.user``; ``context_factory(req)`` adds service-specific
    entries to ``info.context.extra``. Resolvers block (peewee, gRPC), so each
    operation runs on one of ``threads`` pooled threads, and ``cleanup()``
    runs on that same thread after it (to return its database connection).
    ``middleware`` is falcon ASGI middleware. ``service`` names the service in
    metrics and traces; ``routes`` (path to resource) are served beside
    GraphQL: a service's HTML pages, ``/healthz``, ``/readyz``, ``/metrics``.
    Every app serves the packaged browser files under ``/static`` (GraphiQL
    needs them). With ``sources`` (the schema's subscription fields' sources)
    the GraphQL path also speaks GraphQL over WebSocket
    (``web.subscriptions``) under ``subscriptions``.
    """
    pool = OperationThreads(threads)
    app = falcon.asgi.App(middleware=[SecurityHeaders(), pool, *middleware])
    args = (limits, schema, authenticate, cookie_secure, context_factory)
    options: dict[str, Any] = {
        "pool": pool, "cleanup": cleanup, "body_timeout_s": body_timeout_s, "service": service,
    }  # fmt: skip
    if sources is None:
        resource: GraphQLResource = GraphQLResource(*args, **options)
    else:
        live = subscriptions or SubscriptionsSettings()
        resource = LiveGraphQLResource(*args, **options, sources=sources, settings=live)
    app.add_route(path, resource)
    app.add_route(STATIC_PREFIX + "/{path:path}", StaticFiles())
    for route, extra in (routes or {}).items():
        app.add_route(route, extra)
    return app


# Pages may load scripts, styles, images and fonts only from this service, and
# talk only to it (fetch, and WebSockets: CSP's 'self' covers ws: to the same
# host and port). No inline scripts or styles: the pages have none, and GraphiQL
# sets its styles through the DOM, which the policy does not restrict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self';"
    " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class SecurityHeaders:
    """Responses are not sniffed as another type, cached only when they say so
    (the packaged browser files do), and their pages load nothing from elsewhere."""

    async def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool
    ) -> None:
        if resp.get_header("Cache-Control") is None:
            resp.set_header("Cache-Control", "no-store")
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)


class OperationThreads:
    """The pool operations run on; it ends with the server (ASGI lifespan shutdown).

    Made on first use, so an app served again after a shutdown (a test
    client runs the lifespan per request) gets a new one.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None

    def get(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="graphql")
        return self._pool

    async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)


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
        *,
        pool: OperationThreads,
        cleanup: Cleanup | None = None,
        body_timeout_s: float = 30.0,
        service: str = "graphql",
    ) -> None:
        self.service = service
        self.limits = limits
        self.cookie_secure = cookie_secure
        self.schema = schema
        self.authenticate = authenticate
        self.context_factory = context_factory
        self.pool = pool
        self.cleanup = cleanup
        self.body_timeout_s = body_timeout_s

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        try:
            if (req.content_type or "").split(";")[0].strip().lower() != "application/json":
                raise RequestRejected(
                    falcon.HTTP_415, "Use Content-Type: application/json.", "UNSUPPORTED_MEDIA_TYPE"
                )
            body = await read_body(req, self.limits.max_body_bytes, self.body_timeout_s)
            await self.in_thread(self._post, req, resp, body)
        except RequestRejected as exc:
            _reject(resp, exc)

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        try:
            await self.in_thread(self._get, req, resp)
        except RequestRejected as exc:
            _reject(resp, exc)

    async def in_thread(self, handler: Callable[..., T], *args: Any) -> T:
        """``handler(*args)`` on a pooled thread, then ``cleanup()`` on the same thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool.get(), self._call, handler, args)

    def _call(self, handler: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            return handler(*args)
        finally:
            if self.cleanup is not None:
                self.cleanup()

    def _post(self, req: falcon.Request, resp: falcon.Response, body: bytes) -> None:
        limits = self.limits
        params = parse_json(body, limits.max_json_depth)
        refusal = (
            cross_origin_refused() if foreign_cookie_request(req, limits.allowed_origins) else None
        )
        self._run(req, resp, GraphQLRequest.from_params(params), refusal)

    def _get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limits = self.limits
        query = req.get_param("query")
        if query is None:
            if wants_html(req.get_header("Accept")):
                render_page(req, resp, GRAPHIQL_PAGE)
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

    def _run(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        request: GraphQLRequest,
        refuse_mutations: RequestRejected | None,
    ) -> None:
        extra = self.context_factory(req) if self.context_factory else {}
        context = RequestContext(req, resp, self.authenticate, self.cookie_secure, extra)
        with observed(self.service, req, request):
            status, body = run_graphql(
                self.schema,
                request,
                context,
                self.limits,
                refuse_mutations=refuse_mutations,
            )
        resp.status = status
        _json(resp, body)


class LiveGraphQLResource(GraphQLResource):
    """The GraphQL resource that also accepts WebSocket connections (subscriptions)."""

    def __init__(
        self,
        *args: Any,
        sources: Mapping[str, Source],
        settings: SubscriptionsSettings,
        **options: Any,
    ) -> None:
        super().__init__(*args, **options)
        self.endpoint = SubscriptionEndpoint(
            self.schema, self.limits, settings, self.authenticate, sources,
            self.in_thread, self.context_factory,
        )  # fmt: skip

    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await self.endpoint(req, ws)


def _reject(resp: falcon.Response, exc: RequestRejected) -> None:
    resp.status = exc.status
    if exc.status == falcon.HTTP_405:
        resp.set_header("Allow", "POST")
    elif exc.status == falcon.HTTP_408:
        resp.set_header("Connection", "close")
    _json(resp, {"errors": [request_error(exc.message, exc.code)]})


def _json(resp: falcon.Response, body: dict[str, Any]) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(body, separators=(",", ":"), allow_nan=False)
