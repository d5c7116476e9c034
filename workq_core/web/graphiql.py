"""The GraphiQL page a browser gets on ``GET /graphql``."""

from __future__ import annotations

# Pinned versions with subresource integrity would be stricter; the page is a
# developer convenience and sends requests with the same-origin cookie only.
GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Workq GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
  <script crossorigin
    src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({
      url: window.location.pathname,
      fetch: (url, opts) => fetch(url, { ...opts, credentials: "same-origin" }),
    });
    ReactDOM.createRoot(document.getElementById("graphiql"))
      .render(React.createElement(GraphiQL, { fetcher }));
  </script>
</body>
</html>
"""


def wants_html(accept: str | None) -> bool:
    """A browser navigating to the endpoint (not a client asking for JSON)."""
    return accept is not None and "text/html" in accept.lower()
