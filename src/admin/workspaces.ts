/**
 * Admin routes for workspaces.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../edge/app-env";
import { gateDirectory } from "../key-client/client";
import type { CompiledPolicy } from "../policy/compiled";
import { WorkspaceService } from "../services/workspaces";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonBody, jsonResponse, problems, SECURITY } from "./openapi";
import {
  CreateWorkspaceBody,
  PageQuery,
  PatchWorkspaceBody,
  UsageQuery,
  UsageSchema,
  WorkspaceIdParam,
  WorkspaceListSchema,
  WorkspaceSchema,
} from "./schemas";
import { workspaceView } from "./views";

const TAGS = ["Workspaces"];

export function registerWorkspaceRoutes(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  const service = (env: Env) => new WorkspaceService(env.DB, compiled.policy, gateDirectory(env.KEY_GATE));

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
        ...problems(400, 413),
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
      summary: "List workspaces",
      description: "Needs the admin permission `workspaces:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "workspaces:read")] as const,
      request: { query: PageQuery },
      responses: {
        200: jsonResponse(WorkspaceListSchema, "A page of workspaces", EXAMPLES.workspaceList),
        ...problems(400),
      },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const page = await service(c.env).list(c.get("admin"), cursor, limit);
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
      summary: "Change a workspace's name or plan",
      description: "Needs the admin permission `workspaces:write` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "workspaces:write")] as const,
      request: { params: WorkspaceIdParam, body: jsonBody(PatchWorkspaceBody, EXAMPLES.patchWorkspace) },
      responses: {
        200: jsonResponse(WorkspaceSchema, "The changed workspace", EXAMPLES.workspace),
        ...problems(400, 404, 413),
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
