/**
 * Admin routes for keys: create, import, list, get, patch, credits, usage, rotate, revoke, delete.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../edge/app-env";
import { gateDirectory } from "../key-client/client";
import { leaseHolder } from "../key-client/lease-holder";
import type { CompiledPolicy } from "../policy/compiled";
import { KeyService } from "../services/keys";
import { unconfirmed } from "../services/unconfirmed";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonBody, jsonResponse, problems, SECURITY } from "./openapi";
import {
  CreatedKeySchema,
  CreateKeyBody,
  CreditsBody,
  ImportKeyBody,
  KeyDetailSchema,
  KeyIdParam,
  KeyListQuery,
  KeyListSchema,
  KeyRecordSchema,
  PatchKeyBody,
  RevokeByValueBody,
  RotateBody,
  UsageQuery,
  UsageSchema,
} from "./schemas";
import { keyDetailView, keyView } from "./views";

const TAGS = ["Keys"];

export function registerKeyRoutes(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  const service = (c: Context<AppEnv>) =>
    new KeyService(c.env.DB, compiled, gateDirectory(c.env.KEY_GATE), unconfirmed, leaseHolder, c.env);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys",
      operationId: "createKey",
      tags: TAGS,
      summary: "Create a key; the response is the only time the key is shown",
      description: "Needs the admin permission `keys:write` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { body: jsonBody(CreateKeyBody, EXAMPLES.createKey) },
      responses: {
        201: jsonResponse(CreatedKeySchema, "The new key and its record", EXAMPLES.createdKey),
        ...problems(400, 404, 413),
      },
    }),
    async (c) => {
      const { record, key } = await service(c).create(c.get("admin"), c.req.valid("json"));
      c.header("Cache-Control", "no-store");
      return c.json({ ...keyView(record), key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys/import",
      operationId: "importKey",
      tags: TAGS,
      summary: "Adopt an existing key by its value or its SHA-256",
      description: "Needs the admin permission `keys:write` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { body: jsonBody(ImportKeyBody, EXAMPLES.importKey) },
      responses: {
        201: jsonResponse(KeyRecordSchema, "The imported key's record", EXAMPLES.key),
        ...problems(400, 404, 409, 413),
      },
    }),
    async (c) => {
      const record = await service(c).import(c.get("admin"), c.req.valid("json"));
      return c.json(keyView(record), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys/revoke-by-value",
      operationId: "revokeKeyByValue",
      tags: TAGS,
      summary: "Revoke the key with this raw value (for leak responders); unknown or malformed is 404",
      description:
        "Needs the admin permission `keys:revoke` (root holds every permission). A key already revoked answers its record unchanged.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:revoke")] as const,
      request: { body: jsonBody(RevokeByValueBody, EXAMPLES.revokeByValue) },
      responses: {
        200: jsonResponse(KeyRecordSchema, "The revoked record", EXAMPLES.key),
        ...problems(400, 404, 413),
      },
    }),
    async (c) => {
      const record = await service(c).revokeByValue(c.get("admin"), c.req.valid("json").key);
      return c.json(keyView(record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/keys",
      operationId: "listKeys",
      tags: TAGS,
      summary: "List keys, newest first",
      description: "Needs the admin permission `keys:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { query: KeyListQuery },
      responses: {
        200: jsonResponse(KeyListSchema, "A page of key records", EXAMPLES.keyList),
        ...problems(400),
      },
    }),
    async (c) => {
      const page = await service(c).list(c.get("admin"), c.req.valid("query"));
      return c.json({ items: page.items.map(keyView), cursor: page.cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/keys/{id}",
      operationId: "getKey",
      tags: TAGS,
      summary: "Get a key's record",
      description: "Needs the admin permission `keys:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { params: KeyIdParam },
      responses: {
        200: jsonResponse(KeyDetailSchema, "The key's live record and counters", EXAMPLES.keyDetail),
        ...problems(404),
      },
    }),
    async (c) => {
      const inspection = await service(c).get(c.get("admin"), c.req.valid("param").id);
      return c.json(keyDetailView(inspection), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys/{id}/credits",
      operationId: "changeKeyCredits",
      tags: TAGS,
      summary: "Set, raise or lower a key's credits, in force at once",
      description: "Needs the admin permission `keys:write` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { params: KeyIdParam, body: jsonBody(CreditsBody, EXAMPLES.credits) },
      responses: {
        200: jsonResponse(KeyRecordSchema, "The key's record", EXAMPLES.key),
        ...problems(400, 404, 409, 413),
      },
    }),
    async (c) => {
      const record = await service(c).changeCredits(
        c.get("admin"),
        c.req.valid("param").id,
        c.req.valid("json"),
      );
      return c.json(keyView(record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/keys/{id}/usage",
      operationId: "getKeyUsage",
      tags: TAGS,
      summary:
        "Requests per UTC day or hour, allowed and denied by code (default: the last 30 days, or 24 hours); hours are kept 7 days",
      description: "Needs the admin permission `keys:read` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { params: KeyIdParam, query: UsageQuery },
      responses: {
        200: jsonResponse(UsageSchema, "Usage per period", EXAMPLES.usage),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const items = await service(c).usage(c.get("admin"), c.req.valid("param").id, c.req.valid("query"));
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/keys/{id}",
      operationId: "updateKey",
      tags: TAGS,
      summary: "Change a key's settings",
      description: "Needs the admin permission `keys:write` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { params: KeyIdParam, body: jsonBody(PatchKeyBody, EXAMPLES.patchKey) },
      responses: {
        200: jsonResponse(KeyRecordSchema, "The changed record", EXAMPLES.key),
        ...problems(400, 404, 409, 413),
      },
    }),
    async (c) => {
      const record = await service(c).update(c.get("admin"), c.req.valid("param").id, c.req.valid("json"));
      return c.json(keyView(record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys/{id}/rotate",
      operationId: "rotateKey",
      tags: TAGS,
      summary: "Replace a key with a new one of the same settings; the new key is shown once",
      description: "Needs the admin permission `keys:write` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: {
        params: KeyIdParam,
        body: {
          content: { "application/json": { schema: RotateBody, example: EXAMPLES.rotate } },
          required: false,
        },
      },
      responses: {
        201: jsonResponse(CreatedKeySchema, "The new key and its record", EXAMPLES.createdKey),
        ...problems(400, 404, 409, 413),
      },
    }),
    async (c) => {
      const { gracePeriodSeconds } = RotateBody.parse(c.req.valid("json") ?? {});
      const { record, key } = await service(c).rotate(
        c.get("admin"),
        c.req.valid("param").id,
        gracePeriodSeconds,
      );
      c.header("Cache-Control", "no-store");
      return c.json({ ...keyView(record), key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys/{id}/revoke",
      operationId: "revokeKey",
      tags: TAGS,
      summary: "Revoke a key for good (idempotent)",
      description: "Needs the admin permission `keys:revoke` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:revoke")] as const,
      request: { params: KeyIdParam },
      responses: { 200: jsonResponse(KeyRecordSchema, "The revoked record", EXAMPLES.key), ...problems(404) },
    }),
    async (c) => {
      const record = await service(c).revoke(c.get("admin"), c.req.valid("param").id);
      return c.json(keyView(record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/keys/{id}",
      operationId: "deleteKey",
      tags: TAGS,
      summary: "Revoke a key and remove its record; its hash stays reserved",
      description: "Needs the admin permission `keys:revoke` (root holds every permission).",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:revoke")] as const,
      request: { params: KeyIdParam },
      responses: { 204: { description: "Deleted" }, ...problems(404) },
    }),
    async (c) => {
      await service(c).remove(c.get("admin"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
}
