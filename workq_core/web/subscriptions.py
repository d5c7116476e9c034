"""GraphQL over WebSocket with the ``graphql-transport-ws`` protocol (the graphql-ws library's).

One connection carries many operations. The client authenticates once, in
``connection_init`` (a token in its payload, or the cookie of the upgrade
request); each ``subscribe`` then runs a subscription (payloads pushed as
``next`` until ``complete``) or a single query or mutation. Payloads come
from *sources*: ``source(context, **arguments)`` returns an async iterator
of root values, and each is executed against the subscriber's document on
the operation thread pool, since resolvers block (peewee, gRPC).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import falcon
import falcon.asgi
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
)
from graphql.execution import get_argument_values, get_variable_values

from workq_core.config import GraphQLSettings, SubscriptionsSettings
from workq_core.errors import AuthError, Unavailable, WorkqError
from workq_core.web.body import RequestRejected, parse_json
from workq_core.web.context import Authenticate
from workq_core.web.cookies import request_token
from workq_core.web.errors import classify, format_error, request_error
from workq_core.web.operations import DocumentRejected, GraphQLRequest, checked_operation
from workq_core.web.origin import foreign_cookie_request

logger = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"
MAX_ID_LENGTH = 100

# The protocol's close codes.
BAD_MESSAGE = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
BAD_SUBPROTOCOL = 4406
INIT_TIMEOUT = 4408
DUPLICATE_ID = 4409
TOO_MANY = 4429
INTERNAL = 4500

Source = Callable[..., Awaitable[AsyncIterator[Any]]]
"""``source(context, **arguments)``: the root values of one subscription, as they happen."""
RunBlocking = Callable[..., Awaitable[Any]]


class CloseConnection(WorkqError):
    """End the connection with a protocol close code and a reason that says why."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class OperationRefused(WorkqError):
    """One operation cannot run; ``errors`` is the ``error`` message's payload."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("refused")
        self.errors = errors


@dataclass
class ConnectionContext:
    """``info.context`` for operations on a WebSocket: the user, extras, and the thread pool."""

    user: Any
    extra: dict[str, Any]
    run_blocking: RunBlocking
    client_addr: str = "unknown"

    def require_user(self) -> Any:
        if self.user is None:
            raise AuthError("Not authenticated.")
        return self.user


@dataclass(frozen=True)
class SubscriptionEndpoint:
    """The ``on_websocket`` responder of a GraphQL resource; see the module docstring."""

    schema: GraphQLSchema
    limits: GraphQLSettings
    settings: SubscriptionsSettings
    authenticate: Authenticate
    sources: Mapping[str, Source]
    run_blocking: RunBlocking
    context_factory: Callable[[falcon.Request], dict[str, Any]] | None = None

    async def __call__(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        if PROTOCOL not in ws.subprotocols:
            await ws.accept()
            await ws.close(BAD_SUBPROTOCOL, f"Subprotocol not acceptable; use {PROTOCOL}")
            return
        await ws.accept(subprotocol=PROTOCOL)
        await Connection(self, req, ws).serve()


@dataclass
class TokenBucket:
    """``rate`` messages a second on average, bursts of ``2 * rate``."""

    rate: float
    tokens: float = field(init=False)
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = 2 * self.rate

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(2 * self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Connection:
    """One client's WebSocket: the handshake, its operations, its limits."""

    def __init__(
        self, endpoint: SubscriptionEndpoint, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket
    ) -> None:
        self.endpoint = endpoint
        self.req = req
        self.ws = ws
        self.context: ConnectionContext | None = None
        self.token: str | None = None
        self.initialised = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.bucket = TokenBucket(endpoint.settings.max_messages_per_s)
        self._send_lock = asyncio.Lock()

    async def serve(self) -> None:
        deadline = time.monotonic() + self.endpoint.settings.init_timeout_s
        try:
            while True:
                if self.context is None:
                    remaining = deadline - time.monotonic()
                    try:
                        text = await asyncio.wait_for(self.ws.receive_text(), max(remaining, 0))
                    except TimeoutError:
                        raise CloseConnection(
                            INIT_TIMEOUT, "Connection initialisation timeout"
                        ) from None
                else:
                    text = await self.ws.receive_text()
                await self.handle(self.parse(text))
        except CloseConnection as close:
            # A close frame's reason is at most 123 bytes.
            await self.ws.close(close.code, close.message.encode()[:123].decode(errors="ignore"))
        except falcon.errors.PayloadTypeError:
            await self.ws.close(BAD_MESSAGE, "Invalid message received: send text frames")
        except falcon.errors.WebSocketDisconnected:
            pass
        finally:
            for task in self.operations.values():
                task.cancel()

    def parse(self, text: str) -> dict[str, Any]:
        if not self.bucket.take():
            rate = self.endpoint.settings.max_messages_per_s
            raise CloseConnection(
                TOO_MANY,
                f"Too many messages: at most {rate:g} per second"
                " (subscriptions.max_messages_per_s)",
            )
        limit = self.endpoint.settings.max_message_bytes
        # characters first: more characters than bytes allowed needs no encoded copy
        if len(text) > limit or len(text.encode(errors="surrogatepass")) > limit:
            raise CloseConnection(
                BAD_MESSAGE,
                f"Invalid message received: over {limit} bytes (subscriptions.max_message_bytes)",
            )
        try:
            message = parse_json(text.encode(), self.endpoint.limits.max_json_depth)
        except RequestRejected:
            raise CloseConnection(BAD_MESSAGE, "Invalid message received: not JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise CloseConnection(
                BAD_MESSAGE, "Invalid message received: expected an object with a type"
            )
        return message

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self.initialise(message.get("payload"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            self.subscribe(message)
        elif kind == "complete":
            task = self.operations.pop(_operation_id(message), None)
            if task is not None:
                task.cancel()
        else:
            raise CloseConnection(
                BAD_MESSAGE, f"Invalid message received: unknown type {kind[:40]!r}"
            )

    async def initialise(self, payload: Any) -> None:
        if self.initialised:
            raise CloseConnection(TOO_MANY, "Too many initialisation requests")
        self.initialised = True
        if payload is not None and not isinstance(payload, dict):
            raise CloseConnection(
                BAD_MESSAGE, "Invalid message received: payload must be an object"
            )
        self.token = self.token_from(payload or {})
        user = await self.authenticate()
        extra = self.endpoint.context_factory(self.req) if self.endpoint.context_factory else {}
        self.context = ConnectionContext(
            user, extra, self.endpoint.run_blocking, self.req.remote_addr or "unknown"
        )
        await self.send({"type": "connection_ack"})

    def token_from(self, payload: dict[str, Any]) -> str:
        """The bearer token of the payload, else of the upgrade request (header or cookie)."""
        header = payload.get("Authorization") or payload.get("authorization")
        if isinstance(header, str):
            scheme, _, value = header.partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                return value.strip()
        if isinstance(payload.get("token"), str) and payload["token"]:
            return str(payload["token"])
        if foreign_cookie_request(self.req, self.endpoint.limits.allowed_origins):
            raise CloseConnection(
                FORBIDDEN,
                "Forbidden: cookie connections must come from this service's own origin;"
                " send the token in connection_init",
            )
        token = request_token(self.req)
        if token is None:
            raise CloseConnection(
                FORBIDDEN, "Forbidden: not authenticated; send the token in connection_init"
            )
        return token

    async def authenticate(self) -> Any:
        """The token's user, asked through the same ``authenticate`` the HTTP app uses."""
        try:
            user = await self.endpoint.run_blocking(self.endpoint.authenticate, self.token)
        except AuthError:
            user = None
        except Unavailable:
            raise CloseConnection(INTERNAL, "A service is unavailable; try again later") from None
        if user is None:
            raise CloseConnection(FORBIDDEN, "Forbidden: the token was not accepted")
        return user

    def subscribe(self, message: dict[str, Any]) -> None:
        if self.context is None:
            raise CloseConnection(UNAUTHORIZED, "Unauthorized")
        op_id = _operation_id(message)
        if op_id in self.operations:
            raise CloseConnection(DUPLICATE_ID, f"Subscriber for {op_id} already exists")
        payload = message.get("payload")
        limit = self.endpoint.settings.max_per_connection
        if len(self.operations) >= limit:
            error = request_error(
                f"Too many subscriptions on this connection: at most {limit}"
                " (subscriptions.max_per_connection).",
                "RATE_LIMITED",
            )
            self.operations[op_id] = asyncio.create_task(self.send_error(op_id, [error]))
            return
        self.operations[op_id] = asyncio.create_task(self.run(op_id, payload))

    async def send_error(self, op_id: str, errors: list[dict[str, Any]]) -> None:
        try:
            await self.send({"id": op_id, "type": "error", "payload": errors})
        finally:
            self.operations.pop(op_id, None)

    async def run(self, op_id: str, payload: Any) -> None:
        """One operation from ``subscribe`` to its ``complete`` (or ``error``)."""
        try:
            try:
                await self.operation(op_id, payload)
            except OperationRefused as refused:
                await self.send({"id": op_id, "type": "error", "payload": refused.errors})
                return
            await self.send({"id": op_id, "type": "complete"})
        except asyncio.CancelledError:
            raise  # the client completed it, or went away: nothing more to send
        except falcon.errors.WebSocketDisconnected:
            pass
        finally:
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]

    async def operation(self, op_id: str, payload: Any) -> None:
        try:
            request = GraphQLRequest.from_params(payload)
            document, operation = checked_operation(
                self.endpoint.schema, request, self.endpoint.limits
            )
        except RequestRejected as exc:
            raise OperationRefused([request_error(exc.message, exc.code)]) from None
        except DocumentRejected as rejected:
            raise OperationRefused(rejected.errors) from None
        assert self.context is not None
        self.context.user = await self.reauthenticate()
        if operation.operation is not OperationType.SUBSCRIPTION:
            await self.send_result(op_id, await self.execute(document, request, None))
            return
        source = await self.source(document, operation, request)
        try:
            async for root in source:
                await self.send_result(op_id, await self.execute(document, request, root))
        except WorkqError as exc:
            raise _refusal(exc) from None
        finally:
            await _close(source)

    async def reauthenticate(self) -> Any:
        """Each operation asks again (usually the cache answers), so a revoked token stops."""
        try:
            return await self.endpoint.run_blocking(self.endpoint.authenticate, self.token)
        except (AuthError, Unavailable) as exc:
            raise _refusal(exc) from None

    async def source(
        self, document: DocumentNode, operation: OperationDefinitionNode, request: GraphQLRequest
    ) -> AsyncIterator[Any]:
        """The root field's source, with its arguments coerced as execution would."""
        schema = self.endpoint.schema
        variables = get_variable_values(
            schema, operation.variable_definitions or (), request.variables or {}, max_errors=20
        )
        if isinstance(variables, list):
            raise OperationRefused([format_error(e) for e in variables])
        node = operation.selection_set.selections[0]
        if not isinstance(node, FieldNode) or schema.subscription_type is None:
            raise OperationRefused(
                [request_error("Select the subscription field directly.", "BAD_REQUEST")]
            )
        name = node.name.value
        arguments = get_argument_values(schema.subscription_type.fields[name], node, variables)
        try:
            return await self.endpoint.sources[name](self.context, **arguments)
        except WorkqError as exc:
            raise _refusal(exc, node.alias.value if node.alias else name) from None

    async def execute(self, document: DocumentNode, request: GraphQLRequest, root: Any) -> Any:
        def run() -> ExecutionResult:
            result = execute(
                self.endpoint.schema,
                document,
                root_value=root,
                context_value=self.context,
                variable_values=request.variables,
                operation_name=request.operation_name,
                hide_suggestions=True,
            )
            if not isinstance(result, ExecutionResult):
                raise TypeError(f"GraphQL execution did not complete synchronously: {result!r}")
            return result

        return await self.endpoint.run_blocking(run)

    async def send_result(self, op_id: str, result: ExecutionResult) -> None:
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        body["data"] = result.data
        await self.send({"id": op_id, "type": "next", "payload": body})

    async def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message, separators=(",", ":"), allow_nan=False)
        async with self._send_lock:
            await self.ws.send_text(text)


def _operation_id(message: dict[str, Any]) -> str:
    op_id = message.get("id")
    if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_ID_LENGTH:
        raise CloseConnection(
            BAD_MESSAGE, f"Invalid message received: id must be 1 to {MAX_ID_LENGTH} characters"
        )
    return op_id


def _refusal(exc: WorkqError, path: str | None = None) -> OperationRefused:
    """An ``error`` message for an exception, shaped and worded as the HTTP path would."""
    code, message, extra = classify(exc, path)
    error: dict[str, Any] = {"message": message}
    if path is not None:
        error["path"] = [path]
    error["extensions"] = {"code": code, **extra}
    return OperationRefused([error])


async def _close(source: AsyncIterator[Any]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()
