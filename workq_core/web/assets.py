"""The browser files Workq serves itself (dashboard, sign-in page, GraphiQL), from the package.

Nothing comes from a CDN: the files live in ``workq_core/web/static`` and
ship in the wheel, so the pages work on a machine without internet access.
Files under ``vendor/`` have their package's version in their path, so they
are cached for a year; the rest are revalidated with their ETag on each use.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import falcon

STATIC_PREFIX = "/static"
# Folders of workq_core/web/static that are served; package.json, the lockfile,
# the README and the rebuild script are not.
SERVED_FOLDERS = ("dashboard", "graphiql", "signin", "vendor")
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

PageValues = Callable[[falcon.Request], dict[str, str]]
"""``values(req) -> {placeholder: text}`` for a :class:`Page`."""


@dataclass(frozen=True)
class Asset:
    """One servable file: its bytes, type, validator and cache policy."""

    body: bytes
    content_type: str
    etag: str
    cache_control: str


@lru_cache(maxsize=256)
def load_asset(path: str) -> Asset | None:
    """The file at ``path`` (relative to ``static/``), or None when it is not served."""
    parts = path.split("/")
    if len(parts) < 2 or parts[0] not in SERVED_FOLDERS:
        return None
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    suffix = "." + parts[-1].rpartition(".")[2]
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None:
        return None
    resource = files("workq_core.web").joinpath("static", *parts)
    if not resource.is_file():
        return None
    body = resource.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache = IMMUTABLE if parts[0] == "vendor" else REVALIDATE
    return Asset(body, content_type, etag, cache)


def send_asset(req: falcon.Request, resp: falcon.Response, asset: Asset) -> None:
    """``asset`` as the response, or 304 when the browser's copy is current."""
    resp.set_header("Cache-Control", asset.cache_control)
    resp.set_header("ETag", asset.etag)
    if asset.etag in (req.get_header("If-None-Match") or ""):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = asset.content_type
    resp.data = asset.body


class StaticFiles:
    """``GET /static/{path}``: a served file, else 404."""

    async def on_get(self, req: falcon.Request, resp: falcon.Response, path: str) -> None:
        asset = load_asset(path)
        if asset is None:
            raise falcon.HTTPNotFound()
        send_asset(req, resp, asset)


class Page:
    """An HTML page from ``static/``, with ``{{name}}`` placeholders filled per request.

    ``values(req)`` gives the placeholders' values (HTML-escaped here), for
    things only the server knows, such as where the auth service answers.
    """

    def __init__(self, path: str, values: PageValues | None = None) -> None:
        if load_asset(path) is None:  # a packaging mistake: stop at start-up, not per request
            raise RuntimeError(f"static/{path} is missing from the package")
        self.path = path
        self.values = values

    async def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        render_page(req, resp, self.path, self.values)


def render_page(
    req: falcon.Request, resp: falcon.Response, path: str, values: PageValues | None = None
) -> None:
    asset = load_asset(path)
    assert asset is not None, path  # Page and GRAPHIQL_PAGE name packaged files
    text = asset.body.decode("utf-8")
    for name, value in (values(req) if values else {}).items():
        text = text.replace("{{" + name + "}}", html.escape(value, quote=True))
    resp.content_type = asset.content_type
    resp.set_header("Cache-Control", "no-cache")
    resp.text = text
