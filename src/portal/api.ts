/**
 * The portal JSON API, `P/portal/v1` (docs/portal.md): thin routes over the portal services,
 * declared with @hono/zod-openapi so that `P/portal/v1/openapi.json` is generated from the
 * schemas that validate input. CORS for `portal.origins` and the 16 KiB body limit come first,
 * then the member's token (portal/auth.ts) on every route but the document.
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { jsonBody, jsonResponse, problemResponse } from "../admin/openapi";
import { UsageSchema } from "../admin/schemas";
import type { AppEnv } from "../edge/app-env";
import { validationHook } from "../http/validation-hook";
import { gateDirectory } from "../key-client/client";
import { leaseHolder } from "../key-client/lease-holder";
import type { CompiledPolicy } from "../policy/compiled";
import type { Portal } from "../policy/portal";
import type { Policy } from "../policy/schema";
import { Refusal, type RefusalCode } from "../refusals";
import type { Inspection } from "../services/keys";
import { KeyService } from "../services/keys";
import { PortalKeyService } from "../services/portal-keys";
import { portalContext } from "../services/portal-session";
import { unconfirmed } from "../services/unconfirmed";
import { portalAuth } from "./auth";
import { portalCors } from "./cors";
import {
  PortalCreatedKeySchema,
  PortalCreateKeyBody,
  PortalKeyDetailSchema,
  PortalKeyIdParam,
  PortalKeyListQuery,
  PortalKeyListSchema,
  PortalKeySchema,
  PortalPatchKeyBody,
  PortalRotateBody,
  PortalSessionSchema,
  PortalUsageQuery,
} from "./schemas";
import { sessionView } from "./session-view";
import { portalKeyView } from "./views";

/** Largest portal request body, bytes. */
export const PORTAL_BODY_LIMIT = 16 * 1024;

const TAGS = ["Portal"];
const SECURITY = [{ PortalToken: [] }];

const PORTAL_PROBLEMS: Record<number, readonly [string, readonly RefusalCode[]]> = {
  400: ["Invalid input; `errors` lists the fields", ["bad_request", "permission_not_allowed"]],
  401: ["No valid token of the provider's login", ["invalid_token", "token_expired"]],
  403: [
    "The member's permissions do not allow the call, the organisation has no workspace, or its plan cannot create keys",
    ["insufficient_permissions", "workspace_unknown", "plan_required"],
  ],
  404: ["No such key, or not one the member may see", ["not_found"]],
  409: [
    "A maximum number of keys is reached (to create, or to sum usage over), or the key is revoked",
    ["limit_reached", "key_revoked", "conflict"],
  ],
  413: ["Body over 16 KiB", ["payload_too_large"]],
  429: [
    "Over the member's call or write budget, or too many failed tokens (see `Retry-After`)",
    ["rate_limited"],
  ],
  503: ["A storage dependency failed; nothing was loosened (see `Retry-After`)", ["unavailable"]],
};

function problems(...statuses: number[]) {
  const all = [...new Set([...statuses, 401, 403, 429, 503])].sort((a, b) => a - b);
  return Object.fromEntries(
    all.map((status) => {
      const [description, codes] = PORTAL_PROBLEMS[status] as readonly [string, readonly RefusalCode[]];
      return [status, problemResponse(status, description, codes)];
    }),
  );
}

function detailView(inspection: Inspection) {
  return {
    ...portalKeyView(inspection.record),
    limits: inspection.usage.windows.map(({ window, limit, remaining, reset, owner }) => ({
      window: owner ? `owner-${window}` : window,
      limit,
      remaining,
      reset,
    })),
    credits: inspection.record.credits,
  };
}

/** The portal app, mounted at `P/portal`; only built when the policy has a `portal`. */
export function portalApi(compiled: CompiledPolicy): OpenAPIHono<AppEnv> {
  const policy = compiled.policy as Policy & { portal: Portal };
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use("/v1/*", portalCors(policy.portal));
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: PORTAL_BODY_LIMIT,
      onError: () => {
        throw new Refusal(
          "payload_too_large",
          `Portal request bodies are limited to ${PORTAL_BODY_LIMIT / 1024} KiB.`,
        );
      },
    }),
  );
  const auth = portalAuth(compiled);
  const service = (c: Context<AppEnv>) => {
    const member = c.get("portal");
    const keys = new KeyService(
      c.env.DB,
      compiled,
      gateDirectory(c.env.KEY_GATE),
      unconfirmed,
      leaseHolder,
      c.env,
    );
    return new PortalKeyService(c.env.DB, compiled, keys, member, portalContext(member, c.get("requestId")));
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/session",
      operationId: "portalSession",
      tags: TAGS,
      summary: "The member, its workspace, its permissions and what it may create",
      security: SECURITY,
      middleware: [auth] as const,
      responses: {
        200: jsonResponse(PortalSessionSchema, "All the page needs to draw itself"),
        ...problems(),
      },
    }),
    (c) => c.json(sessionView(compiled, c.get("portal")), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/keys",
      operationId: "portalListKeys",
      tags: TAGS,
      summary: "The keys the member may see, newest first (`mine=true`: its own)",
      security: SECURITY,
      middleware: [auth] as const,
      request: { query: PortalKeyListQuery },
      responses: { 200: jsonResponse(PortalKeyListSchema, "A page of keys"), ...problems(400) },
    }),
    async (c) => {
      const { mine, cursor, limit } = c.req.valid("query");
      const page = await service(c).list({
        mine: mine === "true",
        limit,
        ...(cursor !== undefined && { cursor }),
      });
      return c.json({ items: page.items.map(portalKeyView), cursor: page.cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys",
      operationId: "portalCreateKey",
      tags: TAGS,
      summary: "Create a key; the response is the only time the key is shown",
      security: SECURITY,
      middleware: [auth] as const,
      request: { body: jsonBody(PortalCreateKeyBody) },
      responses: {
        201: jsonResponse(PortalCreatedKeySchema, "The new key and its record"),
        ...problems(400, 409, 413),
      },
    }),
    async (c) => {
      const { record, key } = await service(c).create(c.req.valid("json"));
      c.header("Cache-Control", "no-store");
      return c.json({ ...portalKeyView(record), key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/keys/{id}",
      operationId: "portalGetKey",
      tags: TAGS,
      summary: "One key, with the windows in force and its credits",
      security: SECURITY,
      middleware: [auth] as const,
      request: { params: PortalKeyIdParam },
      responses: { 200: jsonResponse(PortalKeyDetailSchema, "The key"), ...problems(404) },
    }),
    async (c) => c.json(detailView(await service(c).get(c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/keys/{id}",
      operationId: "portalUpdateKey",
      tags: TAGS,
      summary: "Rename, disable or enable a key",
      security: SECURITY,
      middleware: [auth] as const,
      request: { params: PortalKeyIdParam, body: jsonBody(PortalPatchKeyBody) },
      responses: { 200: jsonResponse(PortalKeySchema, "The changed key"), ...problems(400, 404, 409, 413) },
    }),
    async (c) => {
      const record = await service(c).update(c.req.valid("param").id, c.req.valid("json"));
      return c.json(portalKeyView(record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys/{id}/rotate",
      operationId: "portalRotateKey",
      tags: TAGS,
      summary: "A new key with the same settings, shown once; grace at most 7 days",
      security: SECURITY,
      middleware: [auth] as const,
      request: { params: PortalKeyIdParam, body: jsonBody(PortalRotateBody) },
      responses: {
        201: jsonResponse(PortalCreatedKeySchema, "The successor and its key"),
        ...problems(400, 404, 409, 413),
      },
    }),
    async (c) => {
      const { gracePeriodSeconds } = c.req.valid("json");
      const { record, key } = await service(c).rotate(c.req.valid("param").id, gracePeriodSeconds);
      c.header("Cache-Control", "no-store");
      return c.json({ ...portalKeyView(record), key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys/{id}/revoke",
      operationId: "portalRevokeKey",
      tags: TAGS,
      summary: "Revoke a key for good",
      security: SECURITY,
      middleware: [auth] as const,
      request: { params: PortalKeyIdParam },
      responses: { 200: jsonResponse(PortalKeySchema, "The revoked key"), ...problems(404) },
    }),
    async (c) => c.json(portalKeyView(await service(c).revoke(c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/keys/{id}/usage",
      operationId: "portalKeyUsage",
      tags: TAGS,
      summary: "A key's usage by UTC day or hour",
      security: SECURITY,
      middleware: [auth] as const,
      request: { params: PortalKeyIdParam, query: PortalUsageQuery },
      responses: { 200: jsonResponse(UsageSchema, "Usage by period"), ...problems(400, 404) },
    }),
    async (c) =>
      c.json({ items: await service(c).usage(c.req.valid("param").id, c.req.valid("query")) }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/usage",
      operationId: "portalUsage",
      tags: TAGS,
      summary: "Usage summed over the keys the member may see",
      security: SECURITY,
      middleware: [auth] as const,
      request: { query: PortalUsageQuery },
      responses: { 200: jsonResponse(UsageSchema, "Usage by period"), ...problems(400, 409) },
    }),
    async (c) => c.json({ items: await service(c).totalUsage(c.req.valid("query")) }, 200),
  );

  let document: ReturnType<typeof portalDocument> | null = null;
  app.get("/v1/openapi.json", (c) => {
    document ??= portalDocument(app, policy.basePath);
    return c.json(document);
  });
  return app;
}

/** The OpenAPI 3.1 document of the portal API, apart from the admin one. */
export function portalDocument(app: OpenAPIHono<AppEnv>, basePath: string) {
  app.openAPIRegistry.registerComponent("securitySchemes", "PortalToken", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A session token of the provider's own login, for the portal's issuer and audience.",
  });
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Portcullis portal",
      version: "1",
      description:
        "Self-service for the API's own customers: members manage their organisation's keys under the provider's rules (docs/portal.md). Every error is an RFC 9457 problem.",
    },
    servers: [{ url: `${basePath}/portal`, description: "The portal API, under the policy's `basePath`" }],
    tags: [{ name: "Portal", description: "A member's keys, usage and session." }],
  });
}
