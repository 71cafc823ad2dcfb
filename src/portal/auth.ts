/**
 * Portal authentication (docs/portal.md#authentication): `Authorization: Bearer <JWT>` issued by
 * the provider, and nothing else. The token is checked as a session JWT against `portal.jwt`
 * (the algorithm of its key only, `exp` required, `nbf`, `iss`, `aud`, 30 s of skew); a token
 * Portcullis issues itself (`iss: "portcullis"`), an API key, an admin key or the admin token is
 * `invalid_token`. Every failed token, and every token whose organisation has no workspace,
 * counts toward the client IP's abuse limit. The member is then counted against its call and
 * write budgets.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../edge/app-env";
import { extractCredential } from "../edge/credential";
import { clientIp } from "../edge/request-facts";
import { gateDirectory } from "../key-client/client";
import { contextDirectory } from "../key-client/context-client";
import { ownerGateOf } from "../key-client/owner-client";
import type { CompiledPolicy } from "../policy/compiled";
import type { Portal } from "../policy/portal";
import type { Policy } from "../policy/schema";
import { Refusal } from "../refusals";
import { isolateMemory } from "../services/deps";
import { KeyService } from "../services/keys";
import { OwnersService } from "../services/owners";
import { countPortalCall } from "../services/portal-meter";
import {
  memberClaims,
  memberWorkspace,
  portalContext,
  portalPermissions,
  syncedRoles,
} from "../services/portal-session";
import { unconfirmed } from "../services/unconfirmed";
import { looksLikeJwt, verifyJwt } from "../sessions/verify-session";
import { OwnerStore } from "../storage/owners";

/** The issuer of the assertions Portcullis signs for origins: never a portal login. */
const OWN_ISSUER = "portcullis";
/** Longest bearer value read as a token. */
const MAX_TOKEN_LENGTH = 16 * 1024;

function secretOf(env: object, name: string | undefined): string | undefined {
  const value = name ? (env as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Methods that read; every other one is a write. */
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The owners service, for `syncOwnerRoles`: owner-role changes as the admin API makes them. */
function ownersService(env: Env, compiled: CompiledPolicy): OwnersService {
  const gates = gateDirectory(env.KEY_GATE);
  return new OwnersService(
    env.DB,
    { of: (workspaceId, ownerId) => ownerGateOf(env, workspaceId, ownerId) },
    contextDirectory(env.WORKSPACE_CONTEXT),
    new KeyService(env.DB, compiled, gates, unconfirmed),
    env.EVENTS,
    compiled.policy.roles,
  );
}

export function portalAuth(compiled: CompiledPolicy): MiddlewareHandler<AppEnv> {
  const policy = compiled.policy as Policy & { portal: Portal };
  const { portal } = policy;
  return async function portalAuth(c, next) {
    const ip = clientIp(c.req.raw.headers);
    const { abuse } = isolateMemory();
    /**
     * A failed token, or one whose organisation has no workspace (no member budget to count it):
     * its refusal, or 429 once the client is over its abuse limit.
     */
    const refuse = async (
      code: "invalid_token" | "token_expired" | "workspace_unknown",
      detail: string,
    ): Promise<never> => {
      const now = Date.now();
      if (ip) {
        const wait = abuse.retryAfter(ip, now);
        const allowed = wait === 0 && (await abuse.allowMiss(c.env.ABUSE_LIMITER, ip, now));
        if (!allowed) {
          throw new Refusal("rate_limited", "Too many failed tokens from this client; see Retry-After.", {
            headers: { "Retry-After": String(Math.max(1, abuse.retryAfter(ip, now))) },
          });
        }
      }
      throw new Refusal(code, detail);
    };

    const credential = extractCredential(["bearer"], c.req.raw.headers, new URLSearchParams());
    const token = credential.kind === "found" ? credential.value : null;
    if (token === null || token.length > MAX_TOKEN_LENGTH || !looksLikeJwt(token)) {
      return refuse(
        "invalid_token",
        "The portal takes `Authorization: Bearer <token>` from the provider's login.",
      );
    }
    const verified = await verifyJwt(token, portal.jwt, secretOf(c.env, portal.jwt.secretEnv));
    if (!verified.ok) {
      return refuse(
        verified.code,
        verified.code === "token_expired"
          ? "The token has expired."
          : "The token is not a valid portal token.",
      );
    }
    const claims = verified.payload.iss === OWN_ISSUER ? null : memberClaims(verified.payload, portal);
    if (!claims)
      return refuse("invalid_token", "The token's claims do not name a member of an organisation.");

    const requestId = c.get("requestId");
    const workspace = await memberWorkspace(c.env.DB, policy, portal, claims, requestId).catch(
      (error: unknown) => {
        if (error instanceof Refusal && error.code === "workspace_unknown")
          return refuse(error.code, error.detail);
        throw error;
      },
    );
    await countPortalCall(c.env, workspace.id, claims.subject, !READS.has(c.req.method));
    const issuedAt = typeof verified.payload.iat === "number" ? verified.payload.iat : null;
    const member = { workspace, subject: claims.subject, name: claims.name, roles: claims.roles, issuedAt };
    const roles = portal.syncOwnerRoles
      ? await syncedRoles(
          ownersService(c.env, compiled),
          new OwnerStore(c.env.DB),
          portalContext({ ...member, permissions: [] }, requestId),
          claims.roles,
          issuedAt,
        )
      : claims.roles;
    c.set("portal", { ...member, roles, permissions: portalPermissions(portal, roles) });
    return next();
  };
}
