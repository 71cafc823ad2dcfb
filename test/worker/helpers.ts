/**
 * Helpers for tests that drive the Worker in the Workers runtime.
 */
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/index";
import { sha256Hex } from "../../src/keys/hash";
import { newId } from "../../src/keys/random";
import type { KeyRecord } from "../../src/keys/record";
import { ROOT_TOKEN, TEST_POLICY } from "../fixtures/policy";

export const BASE = "https://api.example.test";
export const ADMIN = `${BASE}/_portcullis/admin/v1`;

export interface Json {
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected freely
  [key: string]: any;
}

export function adminRequest(method: string, path: string, body?: unknown, token = ROOT_TOKEN): Request {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return new Request(`${ADMIN}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function admin(method: string, path: string, body?: unknown, token = ROOT_TOKEN) {
  const response = await exports.default.fetch(adminRequest(method, path, body, token));
  const text = await response.text();
  const json: Json = text ? JSON.parse(text) : {};
  return { status: response.status, headers: response.headers, json, text };
}

export async function createWorkspace(name = "acme", plan?: string): Promise<string> {
  const { status, json } = await admin("POST", "/workspaces", { name, ...(plan && { plan }) });
  expect(status, JSON.stringify(json)).toBe(201);
  return json.id as string;
}

export async function createKey(
  workspaceId: string,
  fields: Json = {},
): Promise<{ key: string; id: string; record: Json }> {
  const { status, json } = await admin("POST", "/keys", { workspaceId, type: "server", ...fields });
  expect(status, JSON.stringify(json)).toBe(201);
  return { key: json.key, id: json.id, record: json };
}

/**
 * The test policy with leasing off: every request asks the key's object, for tests of what the
 * object itself does (its failures, its clock, its counts) rather than of an isolate's lease.
 */
export const UNLEASED = { POLICY: JSON.stringify({ ...TEST_POLICY, leases: { ms: 0 } }) };

export function call(
  path: string,
  init: RequestInit & { key?: string; leases?: boolean } = {},
): Promise<Response> {
  const { key, leases = true, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key) headers.set("Authorization", `Bearer ${key}`);
  const request = new Request(`${BASE}${path}`, { ...rest, headers });
  return leases ? exports.default.fetch(request) : direct(request, UNLEASED);
}

export async function expectProblem(response: Response, status: number, code: string): Promise<Json> {
  const body = (await response.json()) as Json;
  expect(response.status, JSON.stringify(body)).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(response.headers.get("x-portcullis-code")).toBe(code);
  expect(body).toMatchObject({ status, code, type: `urn:portcullis:problem:${code}` });
  expect(body.error).toEqual({ type: code, message: body.detail });
  expect(body.requestId).toBe(response.headers.get("x-request-id"));
  return body;
}

/** A D1 binding that records each statement prepared through it. */
export function countingDb(db: D1Database): { db: D1Database; statements: string[] } {
  const statements: string[] = [];
  const wrapped = {
    prepare(sql: string) {
      statements.push(sql);
      return db.prepare(sql);
    },
    batch(list: D1PreparedStatement[]) {
      return db.batch(list);
    },
    exec(sql: string) {
      statements.push(sql);
      return db.exec(sql);
    },
  } as unknown as D1Database;
  return { db: wrapped, statements };
}

/** A Durable Object namespace that counts the objects asked for. */
export function countingGates(namespace: typeof env.KEY_GATE) {
  let gets = 0;
  const wrapped = {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) => {
      gets += 1;
      return namespace.get(id);
    },
  } as unknown as typeof env.KEY_GATE;
  return { namespace: wrapped, gets: () => gets };
}

/** A KEY_GATE binding whose stubs count the decisions the Worker asks of keys' objects (`authorize`). */
export function countingDecisions(namespace: typeof env.KEY_GATE) {
  let decisions = 0;
  const wrapped = {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) =>
      new Proxy(namespace.get(id), {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (property !== "authorize" || typeof value !== "function") return value;
          return (...args: unknown[]) => {
            decisions += 1;
            return Reflect.apply(value, target, args);
          };
        },
      }),
  } as unknown as typeof env.KEY_GATE;
  return { namespace: wrapped, decisions: () => decisions };
}

/** Calls the Worker directly with some bindings replaced (failing or counting ones). */
export async function direct(request: Request, overrides: Partial<Env> = {}): Promise<Response> {
  return worker.fetch(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides },
    createExecutionContext(),
  );
}

/** The Durable Object of the key with this id. */
export function keyObject(id: string) {
  return env.KEY_GATE.get(env.KEY_GATE.idFromName(id));
}

/** The Durable Object of the key with this value (its id is looked up in D1 by hash). */
export async function keyObjectFor(key: string) {
  const row = await env.DB.prepare("SELECT id FROM keys WHERE hash = ?1")
    .bind(await sha256Hex(key))
    .first<{ id: string }>();
  if (!row) throw new Error("no such key in D1");
  return keyObject(row.id);
}

/** A key record as written at creation, for tests that write records or create objects directly. */
export function keyRecordOf(workspaceId: string, fields: Partial<KeyRecord> = {}): KeyRecord {
  const now = Date.now();
  return {
    id: newId("key"),
    workspaceId,
    type: "server",
    name: null,
    start: "sk_test_0000",
    ownerId: null,
    permissions: [],
    roles: [],
    meta: {},
    plan: null,
    limits: {},
    credits: null,
    ipAllowlist: [],
    enabled: true,
    expiresAt: null,
    revokedAt: null,
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
    rotatedFrom: null,
    createdBy: { type: "root" },
    ...fields,
  };
}
