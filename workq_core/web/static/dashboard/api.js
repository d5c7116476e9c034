// GraphQL over HTTP against this page's own service, with the same-origin cookie.
// The only door the dashboard uses: the public API, like any other client.

export const ENDPOINT = "/graphql";

/** A GraphQL answer with errors; `code`, `field` and `item` come from the first error. */
export class ApiError extends Error {
  constructor(errors, data = null) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
    this.data = data;
    const extensions = errors[0]?.extensions ?? {};
    this.code = extensions.code ?? null;
    this.field = extensions.field ?? null;
    this.item = extensions.item ?? null;
  }
}

/** Run one operation; resolves to `data`, rejects with an ApiError. */
export async function graphql(query, variables = {}, endpoint = ENDPOINT) {
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError([{ message: "The service cannot be reached.", extensions: { code: "NETWORK" } }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError([{ message: `HTTP ${response.status} without a GraphQL answer.` }]);
  }
  if (body.errors && body.errors.length) throw new ApiError(body.errors, body.data ?? null);
  return body.data;
}

export function isUnauthenticated(error) {
  return error instanceof ApiError && error.code === "UNAUTHENTICATED";
}

export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
