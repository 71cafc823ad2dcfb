/**
 * Request ids and the one structured log line per request, which never holds a secret.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checksumOf } from "../../src/keys/format";
import { DenialTally, useDenialTally } from "../../src/log";
import { ROOT_TOKEN, TEST_POLICY } from "../fixtures/policy";
import { failingDb } from "./faults";
import { admin, adminRequest, BASE, call, createKey, createWorkspace, direct } from "./helpers";

/** The test policy with every allowed request logged. */
const EVERY_LINE = { POLICY: JSON.stringify({ ...TEST_POLICY, logging: { allowedSampleRate: 1 } }) };

/** 12:00:00 UTC: the start of a clock minute, for the isolate's denial tally. */
const T0 = Date.UTC(2027, 0, 15, 12, 0, 0);
const clock = { now: T0 };
let isolateTally: DenialTally;

// Other files' denials share this isolate's tally: each test here starts with a fresh one.
beforeEach(() => {
  clock.now = T0;
  isolateTally = useDenialTally(new DenialTally({ now: () => clock.now }));
});
afterEach(() => {
  useDenialTally(isolateTally);
  vi.restoreAllMocks();
});

/** Every line written to the console (log, warn, error), in order. */
function captureLines(): string[] {
  const lines: string[] = [];
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
  }
  return lines;
}

/** A well-formed key of the test policy that does not exist. */
function unknownKey(i: number): string {
  const body = `Logflood${String(i).padStart(24, "0")}`;
  return `sk_test_${body}_${checksumOf(body)}`;
}

/** Draws of a seeded generator (mulberry32), in place of `Math.random`. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
    const allowed = await direct(
      new Request(`${BASE}/api/products?api_key=${key}`, {
        headers: { Authorization: `Bearer ${key}`, "X-Request-Id": "log-test-1" },
      }),
      EVERY_LINE,
    );
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

describe("allowed requests are sampled", () => {
  async function allowedLines(count: number, overrides: Parameters<typeof direct>[1] = {}) {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const lines = captureLines();
    for (let i = 0; i < count; i++) {
      const response = await direct(
        new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } }),
        overrides,
      );
      expect(response.status).toBe(200);
    }
    return lines.map((line) => JSON.parse(line)).filter((line) => line.decision === "valid");
  }

  it("logs about one allowed request in 100 by default", async () => {
    vi.spyOn(Math, "random").mockImplementation(seededRandom(20270115));
    const logged = await allowedLines(1000);
    expect(logged.length).toBeGreaterThanOrEqual(4);
    expect(logged.length).toBeLessThanOrEqual(18);
  });

  it("logs every allowed request at rate 1", async () => {
    expect(await allowedLines(20, EVERY_LINE)).toHaveLength(20);
  });
});

describe("a flood of one denial costs no flood of lines", () => {
  const ip = "203.0.113.61";
  const from = (address: string, credential: string) =>
    new Request(`${BASE}/api/products`, {
      headers: { Authorization: `Bearer ${credential}`, "CF-Connecting-IP": address },
    });

  it("logs 10 denials a minute per code and client IP, then one summary line before the next line", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const lines = captureLines();
    for (let i = 0; i < 25; i++) expect((await direct(from(ip, unknownKey(i)))).status).toBe(401);
    const parsed = () => lines.map((line) => JSON.parse(line));
    expect(parsed().filter((line) => line.decision === "invalid_key")).toHaveLength(10);
    // Another code from the same IP, and the same code from another IP, are still logged.
    expect((await direct(from(ip, "sk_test_nope"))).status).toBe(401);
    expect((await direct(from("203.0.113.62", unknownKey(99)))).status).toBe(401);
    expect(parsed().map((line) => line.decision)).toEqual([
      ...Array(10).fill("invalid_key"),
      "malformed_key",
      "invalid_key",
    ]);
    // Failures are always logged, however many.
    for (let i = 0; i < 15; i++) {
      expect((await direct(from(ip, key), { DB: failingDb({ reads: true }) })).status).toBe(503);
    }
    expect(parsed().filter((line) => line.event === "request" && line.status === 503)).toHaveLength(15);

    const before = lines.length;
    clock.now = T0 + 60_000;
    const created = await direct(adminRequest("POST", "/workspaces", { name: "after-the-flood" }));
    expect(created.status).toBe(201);
    const [summary, change, ...rest] = parsed().slice(before);
    expect(rest).toEqual([]);
    expect(summary).toEqual({
      level: "warn",
      event: "denials_suppressed",
      code: "invalid_key",
      clientIp: ip,
      suppressed: 15,
      minute: new Date(T0).toISOString(),
    });
    expect(change).toMatchObject({ event: "request", method: "POST", status: 201 });

    const all = lines.join("\n");
    expect(all).not.toContain(key.slice(12));
    for (let i = 0; i < 25; i++) expect(all).not.toContain(unknownKey(i).slice(12));
    expect(all).not.toContain(ROOT_TOKEN);
  });

  it("writes no key or JWT, in a denial's line or in a summary", async () => {
    const lines = captureLines();
    const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.bm90LWEtdmFsaWQtc2lnbmF0dXJl";
    for (let i = 0; i < 12; i++) {
      const denied = await direct(
        new Request(`${BASE}/dashboard/x?token=${token}`, {
          headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip },
        }),
      );
      expect(denied.status).toBe(401);
      expect((await direct(from(ip, unknownKey(400 + i)))).status).toBe(401);
    }
    clock.now = T0 + 60_000;
    await direct(adminRequest("GET", "/workspaces"));
    const summaries = lines
      .map((line) => JSON.parse(line))
      .filter((line) => line.event === "denials_suppressed");
    expect(summaries.map(({ code, suppressed }) => [code, suppressed])).toEqual([
      ["invalid_token", 2],
      ["invalid_key", 2],
    ]);
    const all = lines.join("\n");
    expect(all).not.toContain(token.split(".")[1]);
    for (let i = 0; i < 12; i++) expect(all).not.toContain(unknownKey(400 + i).slice(8));
    expect(all).not.toContain(ROOT_TOKEN);
  });

  it("tallies the IPv6 addresses of one /64 together", async () => {
    const lines = captureLines();
    for (let i = 0; i < 12; i++) {
      expect((await direct(from(`2001:db8:77:1::${i.toString(16)}`, unknownKey(200 + i)))).status).toBe(401);
    }
    expect((await direct(from("2001:db8:77:2::1", unknownKey(300)))).status).toBe(401);
    expect(lines).toHaveLength(11);
    clock.now = T0 + 60_000;
    await direct(adminRequest("GET", "/workspaces"));
    expect(JSON.parse(lines[11] as string)).toMatchObject({
      event: "denials_suppressed",
      code: "invalid_key",
      clientIp: "2001:db8:77:1::/64",
      suppressed: 2,
    });
  });
});
