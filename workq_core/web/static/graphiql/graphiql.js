// Starts GraphiQL on this page's endpoint: queries and mutations over HTTP with the
// same-origin cookie, subscriptions over graphql-transport-ws on the same path.
(function () {
  "use strict";
  const wsScheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    subscriptionUrl: wsScheme + "//" + window.location.host + window.location.pathname,
    fetch: (url, opts) => fetch(url, { ...opts, credentials: "same-origin" }),
  });
  ReactDOM.createRoot(document.getElementById("graphiql"))
    .render(React.createElement(GraphiQL, { fetcher }));
})();
