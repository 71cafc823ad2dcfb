/**
 * `POST P/v1/verify` (docs/admin-api.md): a backend asks whether a key may do something. Runs rows 3-13
 * of docs/decisions.md for the key in the body and answers 200 with the decision; the caller needs an
 * admin credential with `keys:verify`, and an admin key sees only keys of its workspace. Its
 * documentation (body, answer, codes) is admin/verify.ts.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { adminAuth } from "../admin/auth";
import { verifyRoute } from "../admin/verify";
import { failureOf, recordDecision } from "../edge/analytics";
import type { AppEnv } from "../edge/app-env";
import type { CompiledPolicy } from "../policy/compiled";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import { verifyDeps } from "../services/deps";
import { type KeyVerification, verifyKey } from "../services/verify-key";
import { verifyResponse } from "../services/verify-response";

export function registerVerifyRoute(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  app.openapi({ ...verifyRoute, middleware: [adminAuth(compiled, "keys:verify")] as const }, async (c) => {
    const started = Date.now();
    const body = c.req.valid("json");
    const admin = c.get("admin");
    const point = {
      surface: "verify" as const,
      route: null,
      method: c.req.method,
      originMs: null,
    };
    let verification: KeyVerification;
    try {
      verification = await verifyKey(verifyDeps(c.env, c.executionCtx), compiled, body.key, {
        keyTypes: body.keyTypes ? body.keyTypes.filter((type) => type !== ADMIN_KEY_TYPE) : null,
        permissions: body.permissions ?? [],
        anyPermissions: body.anyPermissions ?? [],
        ip: body.ip ?? null,
        // An admin key sees only its own workspace: other keys do not exist for it.
        workspaceId: admin.workspaceId,
        cost: body.cost ?? 1,
        consume: true,
      });
    } catch (error) {
      recordDecision(c.env.ANALYTICS, {
        ...point,
        ...failureOf(error),
        workspaceId: null,
        keyId: null,
        keyType: null,
        decidedBy: null,
        decisionMs: Date.now() - started,
      });
      throw error;
    }
    const { code, record } = verification;
    recordDecision(c.env.ANALYTICS, {
      ...point,
      workspaceId: record?.workspaceId ?? null,
      keyId: record?.id ?? null,
      keyType: record?.type ?? null,
      code,
      decidedBy: verification.decidedBy ?? null,
      status: 200,
      decisionMs: Date.now() - started,
    });
    // `code` is restated with its narrow type, which the 200 schema's enum needs.
    if (code === "invalid_key") return c.json({ ...verifyResponse(code, null, null), code }, 200);
    c.set("keyId", verification.record?.id);
    return c.json({ ...verifyResponse(code, verification.record, verification.decision), code }, 200);
  });
}
