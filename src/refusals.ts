/**
 * The one catalogue of refusals: every code Portcullis answers with, its HTTP status, title and
 * the detail a denial carries unless a more precise one is given. Every layer refuses by
 * throwing or returning a `Refusal`; only `http/` turns it into a response (RFC 9457).
 */

/** Status, title and default detail of every code. */
export const REFUSALS = {
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
  invalid_signature: [401, "Invalid signature", "The signature is missing or does not verify."],
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
  workspace_unknown: [403, "Workspace unknown", "The token's organisation has no workspace here."],
  plan_required: [403, "Plan required", "The workspace's plan does not allow creating keys here."],
  route_not_found: [404, "Route not found", "No route of the policy matches this request."],
  not_found: [404, "Not found", "Nothing exists at this path or with this id."],
  method_not_allowed: [405, "Method not allowed", "This path does not accept this method; see Allow."],
  conflict: [409, "Conflict", "The change conflicts with the current state."],
  limit_reached: [409, "Limit reached", "Creating this key would exceed a maximum number of keys."],
  payload_too_large: [413, "Payload too large", "The request body is too large."],
  rate_limited: [429, "Rate limited", "The key is over its rate limit; see Retry-After."],
  quota_exceeded: [429, "Quota exceeded", "The key has spent its quota for this period; see Retry-After."],
  credits_exhausted: [429, "Credits exhausted", "The key has fewer credits than this request costs."],
  policy_invalid: [500, "Policy invalid", "The policy is invalid."],
  internal: [500, "Internal error", "An internal error occurred."],
  origin_unreachable: [502, "Origin unreachable", "The origin could not be reached."],
  unavailable: [503, "Service unavailable", "A storage dependency failed; the request was denied."],
  origin_timeout: [504, "Origin timeout", "The origin did not answer in time."],
} as const satisfies Record<string, readonly [number, string, string]>;

export type RefusalCode = keyof typeof REFUSALS;

/** A field-level validation failure, as listed in `errors` of a 400. */
export interface FieldError {
  field: string;
  message: string;
}

export interface RefusalOptions {
  /** Overrides the code's usual status (the plan's `quotaStatus`, nginx's 403). */
  status?: number;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

export function statusOf(code: RefusalCode): number {
  return REFUSALS[code][0];
}

/** An expected failure: what every layer throws; `http/` renders it. */
export class Refusal extends Error {
  readonly code: RefusalCode;
  readonly detail: string;
  readonly options: RefusalOptions;
  readonly status: number;

  constructor(code: RefusalCode, detail: string = REFUSALS[code][2], options: RefusalOptions = {}) {
    // A refusal is an answer, not a fault: no stack is captured for it. Capturing one walks every
    // frame of the middleware chain and was the costliest step of a denial (docs/performance.md).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(detail);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = "Refusal";
    this.code = code;
    this.detail = detail;
    this.options = options;
    this.status = options.status ?? statusOf(code);
  }
}

/** Seconds a client should wait before retrying after a dependency failure. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/** The 503 for a failed or overloaded D1 or Durable Object: always a denial (fail closed). */
export function unavailable(detail: string = REFUSALS.unavailable[2]): Refusal {
  return new Refusal("unavailable", detail, {
    headers: { "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
  });
}
