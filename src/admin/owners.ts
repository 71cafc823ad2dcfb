/**
 * Admin routes for owners (docs/consistency.md#owners): set an owner's shared limits and credits, set its
 * roles, read it with live counters, list the owners set, and revoke every key of an owner.
 * Owners are read with `keys:read`, set with `keys:write` and revoked with `keys:revoke`.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../edge/app-env";
import { gateDirectory } from "../key-client/client";
import { contextDirectory } from "../key-client/context-client";
import { ownerGateOf } from "../key-client/owner-client";
import type { CompiledPolicy } from "../policy/compiled";
import { type AdminContext, canSee, notFound } from "../services/admin-context";
import { KeyService } from "../services/keys";
import { OwnersService } from "../services/owners";
import { badRequest } from "../services/policy-checks";
import { unconfirmed } from "../services/unconfirmed";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonBody, jsonResponse, problems, SECURITY } from "./openapi";
import {
  OwnerIdParam,
  OwnerListQuery,
  OwnerListSchema,
  OwnerRevokedSchema,
  OwnerSchema,
  OwnerWorkspaceQuery,
  PutOwnerBody,
  PutOwnerRolesBody,
} from "./schemas";
import { ownerSummaryView, ownerView } from "./views";

const TAGS = ["Owners"];

/** The workspace an owner call is about: the query's, else an admin key's own. */
function workspaceOf(admin: AdminContext, requested: string | undefined): string {
  const workspaceId = requested ?? admin.workspaceId;
  if (!workspaceId) throw badRequest("workspaceId", "required with the root token");
  return workspaceId;
}

export function registerOwnerRoutes(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  const service = (c: Context<AppEnv>) => {
    const gates = gateDirectory(c.env.KEY_GATE);
    return new OwnersService(
      c.env.DB,
      { of: (workspaceId, ownerId) => ownerGateOf(c.env, workspaceId, ownerId) },
      contextDirectory(c.env.WORKSPACE_CONTEXT),
      new KeyService(c.env.DB, compiled, gates, unconfirmed),
      c.env.EVENTS,
      compiled.policy.roles,
    );
  };

  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/owners/{ownerId}",
      operationId: "putOwner",
      tags: TAGS,
      summary: "Set an owner's limits and credits, shared by all its keys (replaces them)",
      description:
        "Needs the admin permission `keys:write` (root holds every permission). In force for every request of the owner's keys after the response.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: {
        params: OwnerIdParam,
        query: OwnerWorkspaceQuery,
        body: jsonBody(PutOwnerBody, EXAMPLES.putOwner),
      },
      responses: { 200: jsonResponse(OwnerSchema, "The owner", EXAMPLES.owner), ...problems(400, 404, 413) },
    }),
    async (c) => {
      const admin = c.get("admin");
      const { ownerId } = c.req.valid("param");
      const workspaceId = workspaceOf(admin, c.req.valid("query").workspaceId);
      const owner = await service(c).put(admin, workspaceId, ownerId, c.req.valid("json"));
      return c.json(ownerView(owner), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/owners/{ownerId}/roles",
      operationId: "putOwnerRoles",
      tags: TAGS,
      summary: "Set an owner's roles, and nothing else",
      description:
        "Needs the admin permission `keys:write` (root holds every permission). Each name must be a role of the workspace or of `policy.roles`; `[]` = none. A key of an `ownerScoped` type holds a permission only while its owner's roles grant it too; in force for every request of the owner's keys after the response. `rolesAsOf` becomes the time of the change plus 30 s.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: {
        params: OwnerIdParam,
        query: OwnerWorkspaceQuery,
        body: jsonBody(PutOwnerRolesBody, EXAMPLES.putOwnerRoles),
      },
      responses: { 200: jsonResponse(OwnerSchema, "The owner", EXAMPLES.owner), ...problems(400, 404, 413) },
    }),
    async (c) => {
      const admin = c.get("admin");
      const { ownerId } = c.req.valid("param");
      const workspaceId = workspaceOf(admin, c.req.valid("query").workspaceId);
      // Narrowed to the workspace only once the caller may see it: an admin key stays in its own.
      if (!canSee(admin, workspaceId)) throw notFound("workspace", workspaceId);
      const owners = service(c);
      await owners.setRoles({ ...admin, workspaceId }, ownerId, c.req.valid("json").roles);
      return c.json(ownerView(await owners.get(admin, workspaceId, ownerId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/owners/{ownerId}",
      operationId: "getOwner",
      tags: TAGS,
      summary: "An owner's limits with live remaining, its credits and its number of keys",
      description:
        "Needs the admin permission `keys:read` (root holds every permission). An owner never set answers with no limits.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { params: OwnerIdParam, query: OwnerWorkspaceQuery },
      responses: { 200: jsonResponse(OwnerSchema, "The owner", EXAMPLES.owner), ...problems(400, 404) },
    }),
    async (c) => {
      const admin = c.get("admin");
      const workspaceId = workspaceOf(admin, c.req.valid("query").workspaceId);
      const owner = await service(c).get(admin, workspaceId, c.req.valid("param").ownerId);
      return c.json(ownerView(owner), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/owners",
      operationId: "listOwners",
      tags: TAGS,
      summary: "List the owners set with PUT, by owner id",
      description: "Needs the admin permission `keys:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { query: OwnerListQuery },
      responses: {
        200: jsonResponse(OwnerListSchema, "The owners", EXAMPLES.ownerList),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const admin = c.get("admin");
      const query = c.req.valid("query");
      const page = await service(c).list(admin, workspaceOf(admin, query.workspaceId), query);
      return c.json({ items: page.items.map(ownerSummaryView), cursor: page.cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/owners/{ownerId}/revoke",
      operationId: "revokeOwner",
      tags: TAGS,
      summary: "Revoke every key of an owner, in force for all of them before the response",
      description:
        "Needs the admin permission `keys:revoke` (root holds every permission). Acts once: keys given this owner later are not revoked.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:revoke")] as const,
      request: { params: OwnerIdParam, query: OwnerWorkspaceQuery },
      responses: {
        200: jsonResponse(OwnerRevokedSchema, "How many keys this call revoked", EXAMPLES.ownerRevoked),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const admin = c.get("admin");
      const workspaceId = workspaceOf(admin, c.req.valid("query").workspaceId);
      const revoked = await service(c).revoke(admin, workspaceId, c.req.valid("param").ownerId);
      return c.json({ revoked }, 200);
    },
  );
}
