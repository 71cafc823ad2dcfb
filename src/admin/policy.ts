/**
 * Admin route `GET /policy` (docs/admin-api.md#the-policy): the policy's key types, plans, roles
 * and every permission it names, and the event types its webhooks may filter on, read-only, so
 * that admin tools (the console) offer these values instead of free text. Nothing else of the
 * policy: no routes, origin, JWT or webhook settings.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../edge/app-env";
import { ADMIN_PERMISSIONS } from "../keys/admin-permissions";
import { EVENT_TYPES } from "../keys/event-types";
import type { CompiledPolicy } from "../policy/compiled";
import type { Policy } from "../policy/schema";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonResponse, problems, SECURITY } from "./openapi";
import { PolicySummarySchema } from "./schemas";

/** Every permission the policy names: routes, key types, plans and roles, sorted. */
function namedPermissions(policy: Policy): string[] {
  const named = new Set<string>();
  const add = (permissions: readonly string[] | undefined) => {
    for (const permission of permissions ?? []) named.add(permission);
  };
  for (const route of policy.routes) {
    add(route.permissions);
    add(route.anyPermissions);
  }
  for (const type of Object.values(policy.keyTypes)) {
    add(type.defaultPermissions);
    add(type.allowedPermissions);
  }
  for (const plan of Object.values(policy.plans)) add(plan.permissions);
  for (const role of Object.values(policy.roles)) add(role.permissions);
  return [...named].sort();
}

/** The parts of the policy an admin tool offers as choices; computed once per isolate. */
export function policySummary(policy: Policy) {
  return {
    keyTypes: Object.entries(policy.keyTypes).map(([name, type]) => ({
      name,
      prefix: type.prefix,
      defaultPermissions: type.defaultPermissions ?? null,
      allowedPermissions: type.allowedPermissions ?? null,
      plan: type.plan ?? null,
      expiresInSeconds: type.expiresInSeconds ?? null,
      ownerScoped: type.ownerScoped,
    })),
    adminPermissions: [...ADMIN_PERMISSIONS],
    plans: Object.entries(policy.plans).map(([name, plan]) => ({
      name,
      limits: plan.limits,
      quotaStatus: plan.quotaStatus,
      permissions: plan.permissions,
    })),
    defaultPlan: policy.defaultPlan ?? null,
    roles: Object.entries(policy.roles).map(([name, role]) => ({ name, permissions: role.permissions })),
    permissions: namedPermissions(policy),
    eventTypes: [...EVENT_TYPES],
  };
}

export function registerPolicyRoute(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  const summary = policySummary(compiled.policy);
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/policy",
      operationId: "getPolicy",
      tags: ["Policy"],
      summary: "The policy's key types, plans, roles and permissions, for the forms of admin tools",
      description:
        "Read-only; the same for every workspace. Shows nothing else of the policy (no routes, origin, JWT or webhook settings). Needs the admin permission `keys:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      responses: {
        200: jsonResponse(PolicySummarySchema, "The policy's choices", EXAMPLES.policy),
        ...problems(),
      },
    }),
    (c) => c.json(summary, 200),
  );
}
