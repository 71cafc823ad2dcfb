/**
 * Refusals on the wire: RFC 9457 problem+json (docs/decisions.md). `renderProblem` is the only place
 * that writes an error response, so every denial carries the same envelope,
 * `X-Portcullis-Code` and, for 401s, `WWW-Authenticate`.
 */
import { type FieldError, REFUSALS, type Refusal, type RefusalCode } from "../refusals";

/** RFC 6750: a presented but unusable bearer credential is `error="invalid_token"`. */
function wwwAuthenticate(code: RefusalCode): string {
  return code === "missing_credential"
    ? 'Bearer realm="portcullis"'
    : 'Bearer realm="portcullis", error="invalid_token"';
}

/**
 * The body of a problem: RFC 9457's members, and the extension member `error` with the code and
 * the detail again, the member the clients of OpenAI- and Anthropic-style APIs read (their SDKs
 * show `error.message` and nothing else of a body).
 */
export function problemBody(
  code: RefusalCode,
  status: number,
  detail: string,
  requestId: string,
  errors?: FieldError[],
) {
  return {
    type: `urn:portcullis:problem:${code}`,
    title: REFUSALS[code][1],
    status,
    code,
    detail,
    requestId,
    ...(errors ? { errors } : {}),
    error: { type: code, message: detail },
  };
}

export function renderProblem(refusal: Refusal, requestId: string): Response {
  const { status } = refusal;
  const body = problemBody(refusal.code, status, refusal.detail, requestId, refusal.options.errors);
  // One record handed to the runtime at once: each `Headers.set` is a call into the runtime.
  const headers: Record<string, string> = {
    ...refusal.options.headers,
    "Content-Type": "application/problem+json",
    "X-Portcullis-Code": refusal.code,
    "X-Request-Id": requestId,
  };
  if (status === 401) headers["WWW-Authenticate"] = wwwAuthenticate(refusal.code);
  return new Response(JSON.stringify(body), { status, headers });
}
