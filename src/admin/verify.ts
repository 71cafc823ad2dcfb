/**
 * `POST P/v1/verify` (SPEC 7): a backend asks whether a key may do something. Runs rows 3-13
 * of SPEC 4.1 for the key in the body and answers 200 with the decision; the caller needs an
 * admin credential with `keys:verify`, and an admin key sees only keys of its workspace.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import type { CompiledPolicy } from "../policy/compiled";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import { verifyDeps } from "../services/deps";
import { verifyKey } from "../services/verify-key";
import { verifyResponse } from "../services/verify-response";
import { adminAuth } from "./auth";
import { jsonBody, jsonResponse, problems, SECURITY } from "./openapi";
import { Permission } from "./schemas";

const VerifyBody = z
  .strictObject({
    key: z.string().min(1).max(512),
    permissions: z.array(Permission).optional(),
    anyPermissions: z.array(Permission).optional(),
    keyTypes: z.array(z.string()).optional(),
    cost: z.number().int().nonnegative().optional(),
    ip: z.string().optional(),
  })
  .openapi("VerifyRequest");

const VerifyAnswer = z
  .object({
    valid: z.boolean(),
    code: z.string(),
    keyId: z.string().optional(),
    workspaceId: z.string().optional(),
    type: z.string().optional(),
    ownerId: z.string().nullable().optional(),
    permissions: z.array(z.string()).optional(),
    plan: z.string().nullable().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    expiresAt: z.string().nullable().optional(),
  })
  .openapi("VerifyResponse");

export function registerVerifyRoute(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/verify",
      summary: "Verify a key and run the decision a proxied request would get",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:verify")] as const,
      request: { body: jsonBody(VerifyBody) },
      responses: { 200: jsonResponse(VerifyAnswer, "The decision"), ...problems(400, 413) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const admin = c.get("admin");
      const verification = await verifyKey(verifyDeps(c.env), compiled, body.key, {
        keyTypes: body.keyTypes ? body.keyTypes.filter((type) => type !== ADMIN_KEY_TYPE) : null,
        permissions: body.permissions ?? [],
        anyPermissions: body.anyPermissions ?? [],
        ip: body.ip ?? null,
        // An admin key sees only its own workspace: other keys do not exist for it.
        workspaceId: admin.workspaceId,
        cost: body.cost ?? 1,
        consume: true,
      });
      if (verification.code === "invalid_key") return c.json(verifyResponse("invalid_key", null, null), 200);
      c.set("keyId", verification.record?.id);
      return c.json(verifyResponse(verification.code, verification.record, verification.decision), 200);
    },
  );
}
