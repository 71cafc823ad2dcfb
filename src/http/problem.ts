/**
 * Refusals on the wire: RFC 9457 problem+json (docs/decisions.md). `renderProblem` is the only place
 * that writes an error response, so every denial carries the same envelope,
 * `X-Portcullis-Code` and, for 401s, `WWW-Authenticate`.
 */
import { REFUSALS, type Refusal, type RefusalCode } from "../refusals";

/** RFC 6750: a presented but unusable bearer credential is `error="invalid_token"`. */
function wwwAuthenticate(code: RefusalCode): string {
  return code === "missing_credential"
    ? 'Bearer realm="portcullis"'
    : 'Bearer realm="portcullis", error="invalid_token"';
}

export function renderProblem(refusal: Refusal, requestId: string): Response {
  const { status } = refusal;
  const body = {
    type: `urn:portcullis:problem:${refusal.code}`,
    title: REFUSALS[refusal.code][1],
    status,
    code: refusal.code,
    detail: refusal.detail,
    requestId,
    ...(refusal.options.errors ? { errors: refusal.options.errors } : {}),
  };
  const headers = new Headers(refusal.options.headers);
  headers.set("Content-Type", "application/problem+json");
  headers.set("X-Portcullis-Code", refusal.code);
  headers.set("X-Request-Id", requestId);
  if (status === 401) headers.set("WWW-Authenticate", wwwAuthenticate(refusal.code));
  return new Response(JSON.stringify(body), { status, headers });
}
