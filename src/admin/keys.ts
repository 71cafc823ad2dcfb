/**
 * Admin routes for keys: create, import, list, get, patch, credits, usage, rotate, revoke, delete.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { gateDirectory } from "../key-object/client";
import type { CompiledPolicy } from "../policy/compiled";
import { KeyService } from "../services/keys";
import { unconfirmed } from "../services/unconfirmed";
import { adminAuth } from "./auth";
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
    new KeyService(c.env.DB, compiled, gateDirectory(c.env.KEY_GATE), unconfirmed);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/keys",
      tags: TAGS,
      summary: "Create a key; the response is the only time the key is shown",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { body: jsonBody(CreateKeyBody) },
      responses: {
        201: jsonResponse(CreatedKeySchema, "The new key and its record"),
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
      tags: TAGS,
      summary: "Adopt an existing key by its value or its SHA-256",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { body: jsonBody(ImportKeyBody) },
      responses: {
        201: jsonResponse(KeyRecordSchema, "The imported key's record"),
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
      tags: TAGS,
      summary: "Revoke the key with this raw value (for leak responders); unknown or malformed is 404",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:revoke")] as const,
      request: { body: jsonBody(RevokeByValueBody) },
      responses: { 200: jsonResponse(KeyRecordSchema, "The revoked record"), ...problems(400, 404, 413) },
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
      tags: TAGS,
      summary: "List keys, newest first",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { query: KeyListQuery },
      responses: { 200: jsonResponse(KeyListSchema, "A page of key records"), ...problems(400) },
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
      tags: TAGS,
      summary: "Get a key's record",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { params: KeyIdParam },
      responses: {
        200: jsonResponse(KeyDetailSchema, "The key's live record and counters"),
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
      tags: TAGS,
      summary: "Set, raise or lower a key's credits, in force at once",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { params: KeyIdParam, body: jsonBody(CreditsBody) },
      responses: { 200: jsonResponse(KeyRecordSchema, "The key's record"), ...problems(400, 404, 409, 413) },
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
      tags: TAGS,
      summary:
        "Requests per UTC day or hour, allowed and denied by code (default: the last 30 days, or 24 hours); hours are kept 7 days",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:read")] as const,
      request: { params: KeyIdParam, query: UsageQuery },
      responses: { 200: jsonResponse(UsageSchema, "Usage per day"), ...problems(400, 404) },
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
      tags: TAGS,
      summary: "Change a key's settings",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: { params: KeyIdParam, body: jsonBody(PatchKeyBody) },
      responses: {
        200: jsonResponse(KeyRecordSchema, "The changed record"),
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
      tags: TAGS,
      summary: "Replace a key with a new one of the same settings; the new key is shown once",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:write")] as const,
      request: {
        params: KeyIdParam,
        body: { content: { "application/json": { schema: RotateBody } }, required: false },
      },
      responses: {
        201: jsonResponse(CreatedKeySchema, "The new key and its record"),
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
      tags: TAGS,
      summary: "Revoke a key for good (idempotent)",
      security: SECURITY,
      middleware: [adminAuth(compiled, "keys:revoke")] as const,
      request: { params: KeyIdParam },
      responses: { 200: jsonResponse(KeyRecordSchema, "The revoked record"), ...problems(404) },
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
      tags: TAGS,
      summary: "Revoke a key and remove its record; its hash stays reserved",
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
