/**
 * For origins, not for the Worker: checks the `X-Portcullis-Assertion` JWT that Portcullis adds
 * to every request it forwards when `ORIGIN_SIGNING_SECRET` is set (docs/headers.md). An origin
 * that checks it refuses requests that did not come through Portcullis, and requests replayed
 * with another method or path. It depends on jose only, so an origin written in TypeScript can
 * import it or copy it.
 */
import { errors, jwtVerify } from "jose";

/** The claims Portcullis signs. `keyId` and `workspaceId` are null for a session. */
export interface PortcullisAssertion {
  iss: "portcullis";
  /** The key id, or the session's subject. */
  sub: string;
  keyId: string | null;
  workspaceId: string | null;
  /** The key type, or `session`. */
  type: string;
  /** Effective permissions of the key or session. */
  permissions: string[];
  /** The method the request was allowed for (a method override's, if any), upper case. */
  method: string;
  /** The normalised path the request was allowed for, as the origin receives it. */
  path: string;
  iat: number;
  exp: number;
}

/** Why an assertion was refused; the request should then be answered 401 or 403. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

export interface VerifyAssertionOptions {
  /** Clock difference tolerated on `exp` and `iat`, seconds (default 5). */
  clockToleranceSeconds?: number;
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/**
 * The assertion's claims if `token` was signed with `secret` by Portcullis, has not expired,
 * and was issued for this request's method and path; throws `AssertionError` otherwise.
 * `request.path` is the path as the origin received it, before any percent-decoding (after the
 * path of the policy's `origin` URL, if that has one).
 */
export async function verifyAssertion(
  token: string | null | undefined,
  secret: string,
  request: { method: string; path: string },
  options: VerifyAssertionOptions = {},
): Promise<PortcullisAssertion> {
  if (!token) throw new AssertionError("no X-Portcullis-Assertion header");
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      issuer: "portcullis",
      requiredClaims: ["exp", "iat", "sub"],
      clockTolerance: options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new AssertionError("the assertion has expired");
    throw new AssertionError(`the assertion is not valid: ${(error as Error).message}`);
  }
  const { method, path, permissions, type } = payload;
  if (typeof method !== "string" || typeof path !== "string" || typeof type !== "string") {
    throw new AssertionError("the assertion lacks its method, path or type");
  }
  if (!isStringArray(permissions)) throw new AssertionError("the assertion's permissions are not a list");
  if (method.toUpperCase() !== request.method.toUpperCase()) {
    throw new AssertionError(`the assertion is for ${method}, not ${request.method}`);
  }
  if (path !== request.path) throw new AssertionError(`the assertion is for ${path}, not ${request.path}`);
  return payload as unknown as PortcullisAssertion;
}
