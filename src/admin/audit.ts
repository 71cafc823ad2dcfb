/**
 * Admin route for the audit log.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../edge/app-env";
import type { CompiledPolicy } from "../policy/compiled";
import { AuditService } from "../services/audit";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonResponse, problems, SECURITY } from "./openapi";
import { AuditListSchema, AuditQuery } from "./schemas";
import { auditView } from "./views";

export function registerAuditRoute(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/audit",
      operationId: "listAuditEntries",
      tags: ["Audit"],
      summary: "Admin changes, newest first",
      description: "Needs the admin permission `audit:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "audit:read")] as const,
      request: { query: AuditQuery },
      responses: {
        200: jsonResponse(AuditListSchema, "A page of audit entries", EXAMPLES.auditList),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const page = await new AuditService(c.env.DB).list(c.get("admin"), c.req.valid("query"));
      return c.json({ items: page.items.map(auditView), cursor: page.cursor }, 200);
    },
  );
}
