"""The reusable web layer: a hardened GraphQL-over-HTTP falcon app and its server.

It takes only what it serves with (GraphQL limits, a schema, an
``authenticate`` callable, the cookie's Secure flag) and knows nothing of
the database: services turn driver errors into ``Unavailable`` themselves.
"""

from workq_core.web.app import create_app
from workq_core.web.context import Authenticate, RequestContext
from workq_core.web.cookies import COOKIE_NAME
from workq_core.web.schema import Resolvers, load_schema
from workq_core.web.server import HttpServer

__all__ = [
    "COOKIE_NAME",
    "Authenticate",
    "HttpServer",
    "RequestContext",
    "Resolvers",
    "create_app",
    "load_schema",
]
