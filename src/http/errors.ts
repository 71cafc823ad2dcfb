/**
 * The one error type of Portcullis and its wire form, RFC 9457 problem+json (SPEC 4.3).
 * Services return or throw `ApiError`; `renderProblem` is the only place that writes an error
 * response, so every denial carries the same envelope, `X-Portcullis-Code` and, for 401s,
 * `WWW-Authenticate`.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Status, title and meaning of every error code Portcullis answers with: the one table that
 * docs/decisions.md is generated from (`npm run docs`).
 */
export const PROBLEMS = {
  bad_request: [400, "Bad request", "The request is invalid."],
  ambiguous_credentials: [400, "Ambiguous credentials", "The request carries two different credentials."],
  permission_not_allowed: [
    400,
    "Permission not allowed for this key type",
    "A permission is beyond the ceiling of the key's type.",
  ],
  missing_credential: [401, "Missing credential", "No credential found."],
  malformed_key: [401, "Malformed key", "The credential is not a well-formed key of any configured type."],
  invalid_key: [401, "Invalid key", "No key matches this credential."],
  invalid_token: [401, "Invalid token", "The session token is not valid."],
  token_expired: [401, "Token expired", "The session token has expired."],
  key_revoked: [401, "Key revoked", "The key has been revoked."],
  key_disabled: [401, "Key disabled", "The key is disabled."],
  key_expired: [401, "Key expired", "The key has expired."],
  https_required: [403, "HTTPS required", "This API is served over HTTPS only."],
  ip_not_allowed: [403, "IP address not allowed", "The client IP is not in the key's allowlist."],
  wrong_key_type: [403, "Wrong key type", "This key type is not accepted here."],
  insufficient_permissions: [
    403,
    "Insufficient permissions",
    "The credential lacks a permission this request requires.",
  ],
  route_not_found: [404, "Route not found", "No route of the policy matches this request."],
  not_found: [404, "Not found", "Nothing exists at this path or with this id."],
  conflict: [409, "Conflict", "The change conflicts with the current state."],
  payload_too_large: [413, "Payload too large", "The request body is too large."],
  rate_limited: [429, "Rate limited", "The key is over its rate limit; see Retry-After."],
  quota_exceeded: [429, "Quota exceeded", "The key has spent its quota for this period; see Retry-After."],
  credits_exhausted: [429, "Credits exhausted", "The key has fewer credits than this request costs."],
  policy_invalid: [500, "Policy invalid", "The policy is invalid."],
  internal: [500, "Internal error", "An internal error occurred."],
  origin_unreachable: [502, "Origin unreachable", "The origin could not be reached."],
  unavailable: [503, "Service unavailable", "A storage dependency failed; the request was denied."],
  origin_timeout: [504, "Origin timeout", "The origin did not answer in time."],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string, string]>;

export type ErrorCode = keyof typeof PROBLEMS;

/** A field-level validation failure, as listed in `errors` of a 400. */
export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemOptions {
  /** Overrides the code's usual status (plan `quotaStatus`, `?compat=nginx`). */
  status?: ContentfulStatusCode;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return PROBLEMS[code][0];
}

/** The error every layer throws for an expected failure; rendered by `renderProblem`. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly detail: string;
  readonly options: ProblemOptions;

  constructor(code: ErrorCode, detail: string, options: ProblemOptions = {}) {
    super(options.status ?? statusOf(code), { message: detail });
    this.code = code;
    this.detail = detail;
    this.options = options;
  }
}

/** Seconds a client should wait before retrying after a dependency failure. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/** The 503 for a failed or overloaded D1 or Durable Object: always a denial (fail closed). */
export function unavailable(detail = "A storage dependency failed; the request was denied."): ApiError {
  return new ApiError("unavailable", detail, {
    headers: { "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
  });
}

/** RFC 6750: a presented but unusable bearer credential is `error="invalid_token"`. */
function wwwAuthenticate(code: ErrorCode): string {
  return code === "missing_credential"
    ? 'Bearer realm="portcullis"'
    : 'Bearer realm="portcullis", error="invalid_token"';
}

export function renderProblem(error: ApiError, requestId: string): Response {
  const status = error.status as ContentfulStatusCode;
  const body = {
    type: `urn:portcullis:problem:${error.code}`,
    title: PROBLEMS[error.code][1],
    status,
    code: error.code,
    detail: error.detail,
    requestId,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
  };
  const headers = new Headers(error.options.headers);
  headers.set("Content-Type", "application/problem+json");
  headers.set("X-Portcullis-Code", error.code);
  headers.set("X-Request-Id", requestId);
  if (status === 401) headers.set("WWW-Authenticate", wwwAuthenticate(error.code));
  return new Response(JSON.stringify(body), { status, headers });
}
