"""The reusable web layer: a hardened GraphQL-over-HTTP falcon app and its server."""

from workq_core.web.app import create_app
from workq_core.web.context import Authenticate, RequestContext
from workq_core.web.cookies import COOKIE_NAME
from workq_core.web.middleware import CloseDatabase
from workq_core.web.schema import Resolvers, load_schema
from workq_core.web.server import HttpServer

__all__ = [
    "COOKIE_NAME",
    "Authenticate",
    "CloseDatabase",
    "HttpServer",
    "RequestContext",
    "Resolvers",
    "create_app",
    "load_schema",
]
