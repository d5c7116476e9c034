"""The GraphiQL page a browser gets on ``GET /graphql``.

The page and the GraphiQL, React and ReactDOM builds it loads are packaged
files (``static/graphiql``, ``static/vendor``), so it works offline.
"""

from __future__ import annotations

GRAPHIQL_PAGE = "graphiql/index.html"


def wants_html(accept: str | None) -> bool:
    """A browser navigating to the endpoint (not a client asking for JSON)."""
    return accept is not None and "text/html" in accept.lower()
