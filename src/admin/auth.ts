/**
 * Admin authentication (docs/admin-api.md): `Authorization: Bearer <ADMIN_TOKEN>` (root, compared in
 * constant time, off when the secret is unset) or an admin key holding the route's permission.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../edge/app-env";
import { extractCredential } from "../edge/credential";
import { clientIp } from "../edge/request-facts";
import type { AdminPermission } from "../keys/admin-permissions";
import { secretsEqual } from "../keys/hash";
import type { CompiledPolicy } from "../policy/compiled";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import { Refusal, type RefusalCode } from "../refusals";
import { verifyDeps } from "../services/deps";
import { verifyKey } from "../services/verify-key";

const ROOT_PERMISSIONS = ["*"];

/** What an admin caller is told when its credential does not pass (the catalogue's detail otherwise). */
function adminDenial(code: RefusalCode): Refusal {
  // The admin API names no key format: a malformed credential is simply not an admin credential.
  if (code === "malformed_key" || code === "invalid_key") {
    return new Refusal("invalid_key", "No admin credential matches this token.");
  }
  if (code === "wrong_key_type") {
    return new Refusal(code, "The admin API needs the admin token or an admin key (pc_admin_...).");
  }
  return new Refusal(code);
}

/** Authenticates the caller and requires `permission`; sets `admin` for the route. */
export function adminAuth(compiled: CompiledPolicy, permission: AdminPermission): MiddlewareHandler<AppEnv> {
  return async function adminAuth(c, next) {
    const credential = extractCredential(["bearer"], c.req.raw.headers, new URLSearchParams());
    if (credential.kind !== "found") {
      throw new Refusal(
        "missing_credential",
        "The admin API needs `Authorization: Bearer <admin token or admin key>`.",
      );
    }
    const requestId = c.get("requestId");
    const rootToken = c.env.ADMIN_TOKEN;
    if (rootToken && (await secretsEqual(credential.value, rootToken))) {
      c.set("admin", {
        actor: { type: "root" },
        workspaceId: null,
        permissions: ROOT_PERMISSIONS,
        requestId,
      });
      return next();
    }
    const verification = await verifyKey(verifyDeps(c.env, c.executionCtx), compiled, credential.value, {
      keyTypes: [ADMIN_KEY_TYPE],
      permissions: [permission],
      anyPermissions: [],
      ip: clientIp(c.req.raw.headers),
      workspaceId: null,
      cost: 0,
      consume: true,
    });
    if (verification.code !== "valid") {
      throw adminDenial(verification.code);
    }
    const { record, decision } = verification;
    c.set("keyId", record.id);
    c.set("admin", {
      actor: { type: "admin_key", id: record.id },
      workspaceId: record.workspaceId,
      permissions: decision.permissions,
      requestId,
    });
    return next();
  };
}
