/**
 * The optional Analytics Engine dataset (docs/analytics.md): one data point per decision on the
 * proxy, forward-auth, self and verify surfaces, written without delaying or failing the request,
 * never holding a secret; nothing when the binding is absent. The binding is a fake that records
 * each point, injected as the Worker's `ANALYTICS`.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type DecisionPoint, recordDecision } from "../../src/edge/analytics";
import { sha256Hex } from "../../src/keys/hash";
import { ROOT_TOKEN, TEST_POLICY } from "../fixtures/policy";
import { failingObjects } from "./faults";
import { BASE, createKey, createWorkspace, direct, UNLEASED } from "./helpers";

function recordingDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  const dataset: AnalyticsEngineDataset = { writeDataPoint: (point) => void points.push(point ?? {}) };
  return { dataset, points };
}

const throwingDataset: AnalyticsEngineDataset = {
  writeDataPoint: () => {
    throw new Error("Analytics Engine: too many data points");
  },
};

function send(path: string, key: string | null, overrides: Partial<Env>, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (key) headers.set("Authorization", `Bearer ${key}`);
  return direct(new Request(`${BASE}${path}`, { ...init, headers }), overrides);
}

/** The point's fields by name, as docs/analytics.md lays them out. */
function named(point: AnalyticsEngineDataPoint | undefined) {
  const [surface, code, keyId, keyType, route, method, decidedBy] = point?.blobs ?? [];
  const [status, decisionMs, originMs, proxied] = point?.doubles ?? [];
  return {
    workspaceId: point?.indexes?.[0],
    surface,
    code,
    keyId,
    keyType,
    route,
    method,
    decidedBy,
    status,
    decisionMs,
    originMs,
    proxied,
  };
}

describe("analytics: one data point per decision", () => {
  it("an allowed, proxied request: its workspace as index, key, route, method, outcome, origin latency", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const { dataset, points } = recordingDataset();
    const response = await send("/api/products", key, { ANALYTICS: dataset, ...UNLEASED });
    expect(response.status).toBe(200);
    expect(points).toHaveLength(1);
    const point = named(points[0]);
    expect(point).toMatchObject({
      workspaceId: ws,
      surface: "proxy",
      code: "valid",
      keyId: id,
      keyType: "server",
      route: "/api/products",
      method: "GET",
      decidedBy: "object",
      status: 200,
      proxied: 1,
    });
    expect(point.originMs).toBeGreaterThanOrEqual(0);
    expect(point.decisionMs).toBeGreaterThanOrEqual(0);
  });

  it("says whether the isolate's lease or the key's object decided", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const { dataset, points } = recordingDataset();
    // The first request asks no lease, the second gets one, the third is decided under it.
    for (let i = 0; i < 3; i++) {
      expect((await send("/api/products", key, { ANALYTICS: dataset })).status).toBe(200);
    }
    expect(points.map((point) => named(point).decidedBy)).toEqual(["object", "object", "lease"]);
  });

  it("denials: 401 unknown and malformed keys, 403 a missing permission, 429 a spent limit", async () => {
    const ws = await createWorkspace();
    const browser = await createKey(ws, { type: "browser" });
    const limited = await createKey(ws, { limits: { minute: 1 } });
    const { dataset, points } = recordingDataset();
    const bindings = { ANALYTICS: dataset, ...UNLEASED };
    expect((await send("/api/products", "sk_test_not-a-key", bindings)).status).toBe(401);
    const unknown = `lg_analytics-${crypto.randomUUID()}`;
    expect((await send("/api/products", unknown, bindings)).status).toBe(401);
    expect((await send("/api/products", browser.key, bindings, { method: "POST" })).status).toBe(403);
    expect((await send("/api/products", limited.key, bindings)).status).toBe(200);
    expect((await send("/api/products", limited.key, bindings)).status).toBe(429);
    expect(points.map(named)).toMatchObject([
      { workspaceId: "", code: "malformed_key", status: 401, keyId: "", decidedBy: "none", proxied: 0 },
      { workspaceId: "", code: "invalid_key", status: 401, keyId: "", decidedBy: "none", proxied: 0 },
      {
        workspaceId: ws,
        code: "insufficient_permissions",
        status: 403,
        keyId: browser.id,
        keyType: "browser",
        method: "POST",
        decidedBy: "object",
        proxied: 0,
        originMs: 0,
      },
      { workspaceId: ws, code: "valid", status: 200, keyId: limited.id, proxied: 1 },
      { workspaceId: ws, code: "rate_limited", status: 429, keyId: limited.id, proxied: 0 },
    ]);
  });

  it("a request without a credential, and one refused 503 because the key's object failed", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const { dataset, points } = recordingDataset();
    expect((await send("/api/products", null, { ANALYTICS: dataset })).status).toBe(401);
    expect(
      (await send("/api/products", key, { ANALYTICS: dataset, KEY_GATE: failingObjects(), ...UNLEASED }))
        .status,
    ).toBe(503);
    expect(points.map(named)).toMatchObject([
      { code: "missing_credential", status: 401, route: "/api/products" },
      { workspaceId: "", code: "unavailable", status: 503, keyId: "", route: "" },
    ]);
  });

  it("forward-auth and the verify API each write one point", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const { dataset, points } = recordingDataset();
    const authorize = await direct(
      new Request(`${BASE}/_portcullis/v1/authorize?proxy=traefik`, {
        headers: {
          "X-Forwarded-Method": "GET",
          "X-Forwarded-Proto": "https",
          "X-Forwarded-Host": "api.example.com",
          "X-Forwarded-Uri": "/api/products",
          "X-Forwarded-For": "203.0.113.7",
          Authorization: `Bearer ${key}`,
        },
      }),
      { ANALYTICS: dataset },
    );
    expect(authorize.status).toBe(200);
    const verify = await direct(
      new Request(`${BASE}/_portcullis/v1/verify`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ key, permissions: ["products:write"] }),
      }),
      { ANALYTICS: dataset },
    );
    expect(verify.status).toBe(200);
    expect(points.map(named)).toMatchObject([
      { workspaceId: ws, surface: "authorize", code: "valid", keyId: id, status: 200, proxied: 0 },
      { workspaceId: ws, surface: "verify", code: "valid", keyId: id, status: 200, proxied: 0 },
    ]);
  });

  it("a verify refused 503 because the key's object failed, and an origin that cannot be reached", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const { dataset, points } = recordingDataset();
    const verify = await direct(
      new Request(`${BASE}/_portcullis/v1/verify`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ key }),
      }),
      { ANALYTICS: dataset, KEY_GATE: failingObjects(), ...UNLEASED },
    );
    expect(verify.status).toBe(503);
    const unreachable = JSON.stringify({ ...TEST_POLICY, origin: "http://127.0.0.1:9" });
    const proxied = await send("/api/products", key, { ANALYTICS: dataset, POLICY: unreachable });
    expect(proxied.status).toBe(502);
    expect(points.map(named)).toMatchObject([
      { surface: "verify", code: "unavailable", status: 503, keyId: "" },
      { surface: "proxy", code: "valid", status: 502, keyId: id, proxied: 1 },
    ]);
  });

  it("holds no secret: neither the key, nor its hash, nor the Authorization header", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const { dataset, points } = recordingDataset();
    await send("/api/products", key, { ANALYTICS: dataset });
    await send("/api/products", `${key.slice(0, -2)}xx`, { ANALYTICS: dataset });
    expect(points).toHaveLength(2);
    const written = JSON.stringify(points);
    expect(written).not.toContain(key);
    expect(written).not.toContain(key.slice(0, -2));
    expect(written).not.toContain(await sha256Hex(key));
    expect(written).not.toContain("Bearer");
  });

  it("a binding that throws fails no request: answers are as without it", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect((await send("/api/products", key, { ANALYTICS: throwingDataset })).status).toBe(200);
    const denied = await send("/api/products", "sk_test_not-a-key", { ANALYTICS: throwingDataset });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("x-portcullis-code")).toBe("malformed_key");
  });

  it("is off by default: the binding is absent and nothing is written", async () => {
    expect((env as Partial<Env>).ANALYTICS).toBeUndefined();
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect((await send("/api/products", key, {})).status).toBe(200);
    const point: DecisionPoint = {
      surface: "proxy",
      workspaceId: ws,
      keyId: null,
      keyType: null,
      route: null,
      method: "GET",
      code: "valid",
      decidedBy: null,
      status: 200,
      decisionMs: 0,
      originMs: null,
    };
    const { dataset, points } = recordingDataset();
    recordDecision(undefined, point);
    expect(points).toEqual([]);
    recordDecision(dataset, point);
    expect(points).toHaveLength(1);
  });
});
