/**
 * The authorization matrix of the admin API: every admin route, and the verify API, against
 * every kind of caller, each cell asserting the exact status. Admin keys see nothing outside
 * their workspace: another workspace's objects are 404.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT_TOKEN } from "../fixtures/policy";
import { ADMIN, admin, BASE, createKey, createWorkspace, type Json } from "./helpers";

type Caller =
  | "root"
  | "adminKey"
  | "otherWorkspaceAdminKey"
  | "adminKeyWithoutPermission"
  | "apiKey"
  | "none";
const CALLERS: Caller[] = [
  "root",
  "adminKey",
  "otherWorkspaceAdminKey",
  "adminKeyWithoutPermission",
  "apiKey",
  "none",
];

interface Fixture {
  ws: string;
  tokens: Record<Caller, string | null>;
}

interface Cell {
  method: string;
  path: (f: Fixture) => Promise<string>;
  body?: (f: Fixture) => Promise<Json>;
  /** Expected status per caller. */
  expect: Record<Caller, number>;
}

const fresh = async (f: Fixture) => (await createKey(f.ws, { credits: { remaining: 5 } })).id;
const role = async (f: Fixture) => {
  const name = `r${Math.random().toString(36).slice(2, 8)}`;
  await admin("POST", "/roles", { workspaceId: f.ws, name, permissions: ["a:b"] });
  return name;
};

/** Expected statuses: allowed for root and the workspace's admin key, 404 across workspaces. */
function scoped(ok: number): Record<Caller, number> {
  return {
    root: ok,
    adminKey: ok,
    otherWorkspaceAdminKey: 404,
    adminKeyWithoutPermission: 403,
    apiKey: 403,
    none: 401,
  };
}

const MATRIX: Record<string, Cell> = {
  "POST /workspaces": {
    method: "POST",
    path: async () => "/workspaces",
    body: async () => ({ name: "m" }),
    expect: {
      root: 201,
      adminKey: 403,
      otherWorkspaceAdminKey: 403,
      adminKeyWithoutPermission: 403,
      apiKey: 403,
      none: 401,
    },
  },
  "GET /workspaces": {
    method: "GET",
    path: async () => "/workspaces",
    expect: {
      root: 200,
      adminKey: 200,
      otherWorkspaceAdminKey: 200,
      adminKeyWithoutPermission: 403,
      apiKey: 403,
      none: 401,
    },
  },
  "GET /workspaces/:id": { method: "GET", path: async (f) => `/workspaces/${f.ws}`, expect: scoped(200) },
  "PATCH /workspaces/:id": {
    method: "PATCH",
    path: async (f) => `/workspaces/${f.ws}`,
    body: async () => ({ name: "renamed" }),
    expect: scoped(200),
  },
  "POST /keys": {
    method: "POST",
    path: async () => "/keys",
    body: async (f) => ({ workspaceId: f.ws, type: "server" }),
    expect: scoped(201),
  },
  "POST /keys/import": {
    method: "POST",
    path: async () => "/keys/import",
    body: async (f) => ({
      workspaceId: f.ws,
      type: "legacy",
      key: `lg_${Math.random().toString(36).slice(2)}`,
    }),
    expect: scoped(201),
  },
  "GET /keys": { method: "GET", path: async (f) => `/keys?workspaceId=${f.ws}`, expect: scoped(200) },
  "GET /keys/:id": { method: "GET", path: async (f) => `/keys/${await fresh(f)}`, expect: scoped(200) },
  "PATCH /keys/:id": {
    method: "PATCH",
    path: async (f) => `/keys/${await fresh(f)}`,
    body: async () => ({ name: "n" }),
    expect: scoped(200),
  },
  "POST /keys/:id/credits": {
    method: "POST",
    path: async (f) => `/keys/${await fresh(f)}/credits`,
    body: async () => ({ op: "increment", amount: 1 }),
    expect: scoped(200),
  },
  "GET /keys/:id/usage": {
    method: "GET",
    path: async (f) => `/keys/${await fresh(f)}/usage`,
    expect: scoped(200),
  },
  "POST /keys/:id/rotate": {
    method: "POST",
    path: async (f) => `/keys/${await fresh(f)}/rotate`,
    body: async () => ({}),
    expect: scoped(201),
  },
  "POST /keys/:id/revoke": {
    method: "POST",
    path: async (f) => `/keys/${await fresh(f)}/revoke`,
    expect: scoped(200),
  },
  "DELETE /keys/:id": { method: "DELETE", path: async (f) => `/keys/${await fresh(f)}`, expect: scoped(204) },
  "POST /roles": {
    method: "POST",
    path: async () => "/roles",
    body: async (f) => ({ workspaceId: f.ws, name: "matrix", permissions: ["x:y"] }),
    expect: scoped(201),
  },
  "GET /roles": { method: "GET", path: async (f) => `/roles?workspaceId=${f.ws}`, expect: scoped(200) },
  "DELETE /roles/:name": {
    method: "DELETE",
    path: async (f) => `/roles/${await role(f)}?workspaceId=${f.ws}`,
    expect: scoped(204),
  },
  "GET /audit": { method: "GET", path: async (f) => `/audit?workspaceId=${f.ws}`, expect: scoped(200) },
  // The policy is the deployment's, not a workspace's: every admin key with keys:read reads it.
  "GET /policy": {
    method: "GET",
    path: async () => "/policy",
    expect: { ...scoped(200), otherWorkspaceAdminKey: 200 },
  },
};

let fixture: Fixture;

beforeAll(async () => {
  const ws = await createWorkspace("matrix");
  const other = await createWorkspace("other");
  fixture = {
    ws,
    tokens: {
      root: ROOT_TOKEN,
      adminKey: (await createKey(ws, { type: "admin", permissions: ["*"] })).key,
      otherWorkspaceAdminKey: (await createKey(other, { type: "admin", permissions: ["*"] })).key,
      adminKeyWithoutPermission: (await createKey(ws, { type: "admin", permissions: [] })).key,
      apiKey: (await createKey(ws)).key,
      none: null,
    },
  };
});

async function send(method: string, url: string, token: string | null, body?: Json): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers["Content-Type"] = "application/json";
  return exports.default.fetch(
    new Request(url, { method, headers, body: body ? JSON.stringify(body) : undefined }),
  );
}

describe("admin authorization matrix", () => {
  const cells = Object.entries(MATRIX).flatMap(([route, cell]) =>
    CALLERS.map((caller) => [route, caller, cell] as const),
  );

  it.each(cells)("%s as %s", async (_route, caller, cell) => {
    const path = await cell.path(fixture);
    const body = cell.body ? await cell.body(fixture) : undefined;
    const response = await send(cell.method, `${ADMIN}${path}`, fixture.tokens[caller], body);
    const expected = cell.expect[caller];
    expect(response.status, await response.clone().text()).toBe(expected);
    if (expected >= 400) {
      const problem = (await response.json()) as Json;
      const code = { 401: "missing_credential", 404: "not_found" }[expected as 401 | 404];
      if (code) expect(problem.code).toBe(code);
      if (expected === 403) {
        expect(problem.code).toBe(caller === "apiKey" ? "wrong_key_type" : "insufficient_permissions");
      }
    }
  });

  it("lists only the caller's own workspace for an admin key", async () => {
    const page = await send("GET", `${ADMIN}/workspaces?limit=100`, fixture.tokens.otherWorkspaceAdminKey);
    const ids = ((await page.json()) as Json).items.map((w: Json) => w.id);
    expect(ids).toHaveLength(1);
    expect(ids).not.toContain(fixture.ws);
  });

  describe("verify API", () => {
    const expectations: Record<Caller, [number, string | null]> = {
      root: [200, "valid"],
      adminKey: [200, "valid"],
      otherWorkspaceAdminKey: [200, "invalid_key"],
      adminKeyWithoutPermission: [403, null],
      apiKey: [403, null],
      none: [401, null],
    };
    it.each(CALLERS)("as %s", async (caller) => {
      const { key } = await createKey(fixture.ws);
      const response = await send("POST", `${BASE}/_portcullis/v1/verify`, fixture.tokens[caller], { key });
      const [status, code] = expectations[caller];
      expect(response.status).toBe(status);
      if (code) expect(((await response.json()) as Json).code).toBe(code);
    });
  });
});
