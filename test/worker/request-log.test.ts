/**
 * Request ids and the one structured log line per request, which never holds a secret.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ROOT_TOKEN, TEST_POLICY } from "../fixtures/policy";
import { failingDb } from "./faults";
import { admin, BASE, call, createKey, createWorkspace, direct } from "./helpers";

afterEach(() => vi.restoreAllMocks());

describe("request ids", () => {
  it("keeps a safe inbound X-Request-Id and passes it to the origin", async () => {
    const response = await call("/public/x", { headers: { "X-Request-Id": "trace-abc_123=" } });
    expect(response.headers.get("x-request-id")).toBe("trace-abc_123=");
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(echo.headers["x-request-id"]).toBe("trace-abc_123=");
  });

  it("replaces an unsafe or over-long inbound id", async () => {
    for (const inbound of ["has space", "a".repeat(129), "<script>"]) {
      const response = await call("/public/x", { headers: { "X-Request-Id": inbound } });
      const id = response.headers.get("x-request-id");
      expect(id).not.toBe(inbound);
      expect(id).toMatch(/^[\w-]{1,128}$/);
    }
    expect(
      (await call("/public/x", { headers: { "X-Request-Id": "a".repeat(128) } })).headers.get("x-request-id"),
    ).toBe("a".repeat(128));
  });

  it("puts a request id on errors and admin answers too", async () => {
    const denied = await call("/api/products");
    expect(denied.headers.get("x-request-id")).toMatch(/^[\w-]+$/);
    const listed = await admin("GET", "/workspaces");
    expect(listed.headers.get("x-request-id")).toMatch(/^[\w-]+$/);
  });
});

describe("request log", () => {
  it("writes one JSON line per request with the decision and key id, and no secret", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const allowed = await call(`/api/products?api_key=${key}`, {
      key,
      headers: { "X-Request-Id": "log-test-1" },
    });
    expect(allowed.status).toBe(200);
    const broken = `${key.slice(0, -1)}${key.endsWith("0") ? "1" : "0"}`;
    await call("/api/products", { key: broken, headers: { "X-Request-Id": "log-test-2" } });
    await admin("GET", "/workspaces");
    expect(lines).toHaveLength(3);
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      requestId: "log-test-1",
      method: "GET",
      path: "/api/products",
      route: "/api/products",
      decision: "valid",
      keyId: id,
      status: 200,
      durationMs: expect.any(Number),
    });
    expect(second).toMatchObject({
      requestId: "log-test-2",
      decision: "malformed_key",
      status: 401,
      keyId: null,
    });
    const all = lines.join("\n");
    expect(all).not.toContain(key.slice(12));
    expect(all).not.toContain(ROOT_TOKEN);
  });
});

describe("log lines carry the request id", () => {
  it("every line written while a request fails names that request", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => {
      errors.push(String(line));
    });
    const response = await direct(
      new Request(`${BASE}/api/products`, {
        headers: { Authorization: `Bearer ${key}`, "X-Request-Id": "failing-dependency-1" },
      }),
      { DB: failingDb({ reads: true }) },
    );
    expect(response.status).toBe(503);
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) expect(JSON.parse(line)).toMatchObject({ requestId: "failing-dependency-1" });
  });

  it("logs allowed requests at logging.allowedSampleRate, denials always", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const quiet = { POLICY: JSON.stringify({ ...TEST_POLICY, logging: { allowedSampleRate: 0 } }) };
    const keyed = (credential: string) =>
      new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${credential}` } });
    for (let i = 0; i < 5; i++) expect((await direct(keyed(key), quiet)).status).toBe(200);
    expect(lines).toHaveLength(0);
    expect((await direct(keyed("sk_test_nope"), quiet)).status).toBe(401);
    expect(lines.map((line) => JSON.parse(line).decision)).toEqual(["malformed_key"]);
  });
});
