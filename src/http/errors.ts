/**
 * The one error type of Portcullis and its wire form, RFC 9457 problem+json (SPEC 4.3).
 * Services return or throw `ApiError`; `renderProblem` is the only place that writes an error
 * response, so every denial carries the same envelope, `X-Portcullis-Code` and, for 401s,
 * `WWW-Authenticate`.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Status and title of every error code Portcullis answers with. */
const PROBLEMS = {
  bad_request: [400, "Bad request"],
  ambiguous_credentials: [400, "Ambiguous credentials"],
  permission_not_allowed: [400, "Permission not allowed for this key type"],
  missing_credential: [401, "Missing credential"],
  malformed_key: [401, "Malformed key"],
  invalid_key: [401, "Invalid key"],
  invalid_token: [401, "Invalid token"],
  token_expired: [401, "Token expired"],
  key_revoked: [401, "Key revoked"],
  key_disabled: [401, "Key disabled"],
  key_expired: [401, "Key expired"],
  https_required: [403, "HTTPS required"],
  ip_not_allowed: [403, "IP address not allowed"],
  wrong_key_type: [403, "Wrong key type"],
  insufficient_permissions: [403, "Insufficient permissions"],
  route_not_found: [404, "Route not found"],
  not_found: [404, "Not found"],
  conflict: [409, "Conflict"],
  payload_too_large: [413, "Payload too large"],
  rate_limited: [429, "Rate limited"],
  quota_exceeded: [429, "Quota exceeded"],
  credits_exhausted: [429, "Credits exhausted"],
  policy_invalid: [500, "Policy invalid"],
  internal: [500, "Internal error"],
  origin_unreachable: [502, "Origin unreachable"],
  unavailable: [503, "Service unavailable"],
  origin_timeout: [504, "Origin timeout"],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>;

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
