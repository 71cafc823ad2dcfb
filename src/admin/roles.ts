/**
 * Admin routes for roles: create or replace, list, delete.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../edge/app-env";
import { contextDirectory } from "../key-client/context-client";
import type { CompiledPolicy } from "../policy/compiled";
import type { AdminContext } from "../services/admin-context";
import { badRequest } from "../services/policy-checks";
import { RoleService } from "../services/roles";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonBody, jsonResponse, problems, SECURITY } from "./openapi";
import { RoleListSchema, RoleNameParam, RoleSchema, RoleWorkspaceQuery, UpsertRoleBody } from "./schemas";
import { roleView } from "./views";

const TAGS = ["Roles"];

/** The workspace a role call is about: the query's, else an admin key's own. */
function workspaceOf(admin: AdminContext, requested: string | undefined): string {
  const workspaceId = requested ?? admin.workspaceId;
  if (!workspaceId) throw badRequest("workspaceId", "required with the root token");
  return workspaceId;
}

export function registerRoleRoutes(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  const service = (c: Context<AppEnv>) =>
    new RoleService(c.env.DB, contextDirectory(c.env.WORKSPACE_CONTEXT), compiled.policy.roles);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/roles",
      operationId: "upsertRole",
      tags: TAGS,
      summary: "Create or replace a role; the change reaches every key holding it",
      description: "Needs the admin permission `roles:write` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "roles:write")] as const,
      request: { body: jsonBody(UpsertRoleBody, EXAMPLES.upsertRole) },
      responses: { 201: jsonResponse(RoleSchema, "The role", EXAMPLES.role), ...problems(400, 404, 413) },
    }),
    async (c) => {
      const role = await service(c).upsert(c.get("admin"), c.req.valid("json"));
      return c.json(roleView(role), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/roles",
      operationId: "listRoles",
      tags: TAGS,
      summary: "List the roles of a workspace: its own and the policy's it does not replace",
      description: "Needs the admin permission `roles:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "roles:read")] as const,
      request: { query: RoleWorkspaceQuery },
      responses: { 200: jsonResponse(RoleListSchema, "The roles", EXAMPLES.roleList), ...problems(400, 404) },
    }),
    async (c) => {
      const admin = c.get("admin");
      const roles = await service(c).list(admin, workspaceOf(admin, c.req.valid("query").workspaceId));
      return c.json({ items: roles.map(roleView) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/roles/{name}",
      operationId: "deleteRole",
      tags: TAGS,
      summary: "Delete a workspace role; keys holding it get the policy's role of its name, if any",
      description:
        "Needs the admin permission `roles:write` (root holds every permission). A policy role the workspace does not replace is 409 `conflict`: only a deployment changes it.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "roles:write")] as const,
      request: { params: RoleNameParam, query: RoleWorkspaceQuery },
      responses: { 204: { description: "Deleted" }, ...problems(400, 404, 409) },
    }),
    async (c) => {
      const admin = c.get("admin");
      await service(c).remove(
        admin,
        workspaceOf(admin, c.req.valid("query").workspaceId),
        c.req.valid("param").name,
      );
      return c.body(null, 204);
    },
  );
}
