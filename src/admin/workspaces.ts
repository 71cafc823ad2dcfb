/**
 * Admin routes for workspaces.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../edge/app-env";
import { contextDirectory } from "../key-client/context-client";
import type { CompiledPolicy } from "../policy/compiled";
import { WorkspaceService } from "../services/workspaces";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonBody, jsonResponse, problems, SECURITY } from "./openapi";
import {
  CreateWorkspaceBody,
  PatchWorkspaceBody,
  UsageQuery,
  UsageSchema,
  WorkspaceIdParam,
  WorkspaceListQuery,
  WorkspaceListSchema,
  WorkspaceSchema,
} from "./schemas";
import { workspaceView } from "./views";

const TAGS = ["Workspaces"];

export function registerWorkspaceRoutes(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  const service = (env: Env) =>
    new WorkspaceService(env.DB, compiled.policy, contextDirectory(env.WORKSPACE_CONTEXT), env);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/workspaces",
      operationId: "createWorkspace",
      tags: TAGS,
      summary: "Create a workspace (root only)",
      description: "Only the root token creates workspaces; an admin key, whatever it holds, gets 403.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "workspaces:write")] as const,
      request: { body: jsonBody(CreateWorkspaceBody, EXAMPLES.createWorkspace) },
      responses: {
        201: jsonResponse(WorkspaceSchema, "The new workspace", EXAMPLES.workspace),
        ...problems(400, 409, 413),
      },
    }),
    async (c) => {
      const workspace = await service(c.env).create(c.get("admin"), c.req.valid("json"));
      return c.json(workspaceView(workspace), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/workspaces",
      operationId: "listWorkspaces",
      tags: TAGS,
      summary: "List workspaces, or find one by its externalId",
      description:
        "Needs the admin permission `workspaces:read` (root holds every permission). An admin key sees its own workspace only.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "workspaces:read")] as const,
      request: { query: WorkspaceListQuery },
      responses: {
        200: jsonResponse(WorkspaceListSchema, "A page of workspaces", EXAMPLES.workspaceList),
        ...problems(400),
      },
    }),
    async (c) => {
      const page = await service(c.env).list(c.get("admin"), c.req.valid("query"));
      return c.json({ items: page.items.map(workspaceView), cursor: page.cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/workspaces/{id}",
      operationId: "getWorkspace",
      tags: TAGS,
      summary: "Get a workspace",
      description: "Needs the admin permission `workspaces:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "workspaces:read")] as const,
      request: { params: WorkspaceIdParam },
      responses: {
        200: jsonResponse(WorkspaceSchema, "The workspace", EXAMPLES.workspace),
        ...problems(404),
      },
    }),
    async (c) => {
      const workspace = await service(c.env).get(c.get("admin"), c.req.valid("param").id);
      return c.json(workspaceView(workspace), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/workspaces/{id}",
      operationId: "updateWorkspace",
      tags: TAGS,
      summary: "Change a workspace's name, plan or externalId",
      description:
        "Needs the admin permission `workspaces:write` (root holds every permission); only the root token changes `externalId`.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "workspaces:write")] as const,
      request: { params: WorkspaceIdParam, body: jsonBody(PatchWorkspaceBody, EXAMPLES.patchWorkspace) },
      responses: {
        200: jsonResponse(WorkspaceSchema, "The changed workspace", EXAMPLES.workspace),
        ...problems(400, 403, 404, 409, 413),
      },
    }),
    async (c) => {
      const workspace = await service(c.env).update(
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json(workspaceView(workspace), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/workspaces/{id}/usage",
      operationId: "getWorkspaceUsage",
      tags: TAGS,
      summary: "Requests per UTC day or hour summed over the workspace's keys (at most 30 s behind)",
      description: "Needs the admin permission `keys:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { params: WorkspaceIdParam, query: UsageQuery },
      responses: {
        200: jsonResponse(UsageSchema, "Usage per period", EXAMPLES.usage),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const items = await service(c.env).usage(c.get("admin"), c.req.valid("param").id, c.req.valid("query"));
      return c.json({ items }, 200);
    },
  );
}
