"""Read a request body within its size limit and parse it as strict, shallow JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import falcon
import falcon.asgi

from workq_core.errors import WorkqError


class RequestRejected(WorkqError):
    """The HTTP request itself is unacceptable; answered with ``status`` before GraphQL runs."""

    def __init__(self, status: str, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


async def read_body(req: falcon.asgi.Request, max_bytes: int, timeout_s: float) -> bytes:
    """The whole body, or 413 when it is (or claims to be) larger than ``max_bytes``.

    A body that has not all arrived within ``timeout_s`` is answered 408 (and
    the connection closed), so a slow client cannot hold a request open.
    """
    if req.content_length is None:
        # Chunked bodies are refused, as they were before (GraphQL clients send a length).
        raise RequestRejected(falcon.HTTP_411, "Send Content-Length.", "LENGTH_REQUIRED")
    if req.content_length > max_bytes:
        raise RequestRejected(falcon.HTTP_413, "Request body too large.", "PAYLOAD_TOO_LARGE")
    try:
        data = await asyncio.wait_for(_read_at_most(req, req.content_length), timeout_s)
    except TimeoutError:
        raise RequestRejected(
            falcon.HTTP_408, "Request body not received in time.", "REQUEST_TIMEOUT"
        ) from None
    if len(data) > max_bytes:
        raise RequestRejected(falcon.HTTP_413, "Request body too large.", "PAYLOAD_TOO_LARGE")
    return data


async def _read_at_most(req: falcon.asgi.Request, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = await req.stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def parse_json(data: bytes | str, max_depth: int) -> Any:
    """Strict JSON: no NaN or Infinity, nesting at most ``max_depth`` deep; else 400."""
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        # ValueError covers UnicodeDecodeError and JSONDecodeError; the
        # decoder's message is not echoed (it may quote the payload).
        raise RequestRejected(falcon.HTTP_400, "Request body is not valid JSON.") from None
    if _depth(value) > max_depth:
        raise RequestRejected(falcon.HTTP_400, "Request JSON is nested too deeply.")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    """Nesting depth without recursion, so a hostile body cannot exhaust the stack."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest
