/**
 * Session JWTs (docs/policy.md#sessions), verified with jose: HS256 with the secret the policy names, or
 * RS256/ES256/EdDSA with keys from a JWKS URL (cached per isolate, re-fetched when a token names
 * a key id it does not know, so that key rotation just works). `exp` is required; `exp`, `nbf`,
 * `iss` and `aud` are checked with 30 s of clock skew. A JWKS that cannot be fetched denies with 503, never allows.
 */
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { logEvent } from "../log";
import type { Policy } from "../policy/schema";
import { Refusal, unavailable } from "../refusals";

type JwtConfig = NonNullable<Policy["jwt"]>;

/** Clock skew allowed on `exp` and `nbf`, seconds. */
const CLOCK_SKEW_SECONDS = 30;
/** Least time between two JWKS fetches caused by unknown key ids, ms. */
const JWKS_COOLDOWN_MS = 1_000;
/** Longest a fetched JWKS is trusted, ms. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const ASYMMETRIC = ["RS256", "ES256", "EdDSA"];

export type SessionVerification =
  | { ok: true; subject: string; permissions: string[] }
  | { ok: false; code: "invalid_token" | "token_expired" };

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySet(url: string): ReturnType<typeof createRemoteJWKSet> {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), {
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
    keySets.set(url, set);
  }
  return set;
}

/** A bearer value with two dots is a JWT (docs/policy.md#sessions). */
export function looksLikeJwt(value: string): boolean {
  return value.split(".").length === 3;
}

function permissionsOf(payload: JWTPayload, claim: string, fullAccess: boolean): string[] {
  if (fullAccess) return ["*"];
  const value = payload[claim];
  if (typeof value === "string") return value.split(" ").filter((permission) => permission !== "");
  if (Array.isArray(value))
    return value.filter((permission): permission is string => typeof permission === "string");
  return [];
}

/** What a token is checked against: one HS256 secret and/or one JWKS, and the claims required. */
export interface JwtChecks {
  secretEnv?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export type JwtVerification =
  | { ok: true; payload: JWTPayload }
  | { ok: false; code: "invalid_token" | "token_expired" };

/**
 * Verifies a JWT's signature (with the algorithm of its key only, never `none`), `exp`
 * (required), `nbf`, `iss` and `aud`, with 30 s of clock skew. A JWKS that cannot be fetched
 * denies with 503.
 */
export async function verifyJwt(
  token: string,
  config: JwtChecks,
  secret: string | undefined,
): Promise<JwtVerification> {
  const algorithms = [...(config.secretEnv ? ["HS256"] : []), ...(config.jwksUrl ? ASYMMETRIC : [])];
  const jwksUrl = config.jwksUrl;
  try {
    const { payload } = await jwtVerify(
      token,
      async (header, input) => {
        if (header.alg === "HS256") {
          if (!secret) throw unavailable(`The session secret ${config.secretEnv} is not set.`);
          return new TextEncoder().encode(secret);
        }
        if (!jwksUrl) throw new errors.JOSEAlgNotAllowed("unexpected algorithm");
        return keySet(jwksUrl)(header, input);
      },
      {
        algorithms,
        // A token without `exp` would be valid forever (docs/policy.md#sessions).
        requiredClaims: ["exp"],
        clockTolerance: CLOCK_SKEW_SECONDS,
        ...(config.issuer && { issuer: config.issuer }),
        ...(config.audience && { audience: config.audience }),
      },
    );
    return { ok: true, payload };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, code: "token_expired" };
    if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout))
      return { ok: false, code: "invalid_token" };
    if (error instanceof Refusal) throw error;
    logEvent("error", "jwks_failed", { error: String(error) });
    throw unavailable("The session keys could not be fetched; the request was denied.");
  }
}

export async function verifySession(
  token: string,
  config: JwtConfig,
  secret: string | undefined,
): Promise<SessionVerification> {
  const verified = await verifyJwt(token, config, secret);
  if (!verified.ok) return verified;
  const { payload } = verified;
  if (!payload.sub) return { ok: false, code: "invalid_token" };
  return {
    ok: true,
    subject: payload.sub,
    permissions: permissionsOf(payload, config.permissionsClaim, config.fullAccess),
  };
}

/** The HS256 secret the policy names (`jwt.secretEnv`), from the Worker's secrets. */
export function sessionSecret(env: object, policy: Policy): string | undefined {
  const name = policy.jwt?.secretEnv;
  const value = name ? (env as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" && value !== "" ? value : undefined;
}
