/**
 * Attack class: the portal's browser boundary and its budgets (docs/portal.md). CORS answers
 * only `portal.origins` (echoed, `Vary: Origin`, never credentials); a member's writes are
 * limited to 30 a minute and its calls to 300 a minute, exactly, in the member's own counter;
 * bodies over 16 KiB are 413 and change nothing; `GET /usage` sums a bounded number of keys.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gateOf } from "../../src/key-client/client";
import type { OwnerGate } from "../../src/key-object/owner-gate";
import { newId } from "../../src/keys/random";
import { MAX_SUMMED_KEYS } from "../../src/services/portal-keys";
import { memberMeterName } from "../../src/services/portal-meter";
import { KeyStore } from "../../src/storage/keys";
import { countingGates, expectProblem, keyRecordOf } from "../worker/helpers";
import {
  APP_ORIGIN,
  DEFAULT_ENV,
  keyCount,
  member,
  organisation,
  portal,
  portalFetch,
} from "./portal-support";

function preflight(origin: string, method = "POST") {
  return portalFetch("OPTIONS", "/keys", {
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "authorization, content-type",
    },
  });
}

describe("portal: CORS", () => {
  it("answers a preflight for a portal origin, without credentials", async () => {
    const response = await preflight(APP_ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(response.headers.get("vary")).toContain("Origin");
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    expect(allowed).toContain("authorization");
    expect(allowed).toContain("content-type");
    expect(response.headers.get("access-control-allow-methods")).toContain("PATCH");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("grants nothing to another origin, on preflights and answers alike", async () => {
    for (const origin of [
      "https://evil.test",
      "null",
      `${APP_ORIGIN}.evil.test`,
      "http://app.provider.test",
    ]) {
      const response = await preflight(origin);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    }
    const { org } = await organisation();
    const answer = await portalFetch("GET", "/session", {
      token: await member(org, "owner"),
      headers: { Origin: "https://evil.test" },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds CORS headers to answers and denials for a portal origin", async () => {
    const denied = await portalFetch("GET", "/session", { headers: { Origin: APP_ORIGIN } });
    await expectProblem(denied, 401, "invalid_token");
    expect(denied.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
    expect(denied.headers.get("access-control-allow-credentials")).toBeNull();
    expect(denied.headers.get("vary")).toContain("Origin");
    const { org } = await organisation();
    const ok = await portalFetch("GET", "/session", {
      token: await member(org, "owner"),
      headers: { Origin: APP_ORIGIN },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
  });
});

/** Stops the clock of the member's call counter, so that no budget comes back during a burst. */
async function freezeMeter(workspaceId: string, subject: string) {
  const stub = env.OWNER_GATE.get(env.OWNER_GATE.idFromName(memberMeterName(workspaceId, subject)));
  const at = Date.now();
  await runInDurableObject(stub, (instance: OwnerGate) => {
    instance.now = () => at;
  });
}

describe("portal: budgets", () => {
  it("refuses bodies over 16 KiB with 413 and creates nothing", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const body = JSON.stringify({ type: "server", name: "x", pad: "p".repeat(17 * 1024) });
    await expectProblem(await portalFetch("POST", "/keys", { token, body }), 413, "payload_too_large");
    expect(await keyCount(ws.id)).toBe(0);
  });

  it("limits a member to 30 writes a minute, exactly, under concurrency", { timeout: 120_000 }, async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner", "writer");
    await freezeMeter(ws.id, "writer");
    const created = await portal("POST", "/keys", { token, body: { type: "server", name: "w" } });
    expect(created.status).toBe(201);
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        portalFetch("PATCH", `/keys/${created.json.id}`, { token, body: { name: "renamed" } }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(29);
    const refused = responses.filter((response) => response.status === 429);
    expect(refused).toHaveLength(11);
    const problem = await expectProblem(refused[0] as Response, 429, "rate_limited");
    expect(problem.detail).toContain("30");
    expect(Number(refused[0]?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Reads still pass; another member of the workspace has its own budget.
    expect((await portal("GET", "/keys", { token })).status).toBe(200);
    const other = await member(ws.org, "owner", "other");
    expect(
      (await portal("PATCH", `/keys/${created.json.id}`, { token: other, body: { name: "x" } })).status,
    ).toBe(200);
  });

  it("limits a member to 300 calls a minute, exactly", { timeout: 180_000 }, async () => {
    const ws = await organisation();
    const token = await member(ws.org, "viewer", "reader");
    await freezeMeter(ws.id, "reader");
    let passed = 0;
    let refused = 0;
    for (let round = 0; round < 8; round += 1) {
      const responses = await Promise.all(
        Array.from({ length: 40 }, () => portalFetch("GET", "/session", { token })),
      );
      for (const response of responses) {
        if (response.status === 200) passed += 1;
        else if (response.status === 429) refused += 1;
        await response.body?.cancel();
      }
    }
    expect(passed).toBe(300);
    expect(refused).toBe(20);
  });
});

/**
 * `count` revoked keys of `type` owned by `ownerId`, as a member that creates and revokes keys
 * accumulates them (revoked keys count toward no maximum, and stay visible). `objects`: each
 * is created through its object, as `POST /keys` does; else only its D1 row is written.
 */
async function revokedKeys(
  workspaceId: string,
  type: string,
  ownerId: string | null,
  count: number,
  objects = false,
) {
  const store = new KeyStore(env.DB);
  const now = Date.now();
  const statements = [];
  for (let i = 0; i < count; i++) {
    const record = keyRecordOf(workspaceId, {
      type,
      name: `old-${i}`,
      ownerId,
      revokedAt: now,
      createdBy: { type: "portal", id: ownerId ?? "uma" },
    });
    const hash = `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");
    if (!objects) statements.push(store.insert(record, hash));
    else {
      const context = { actor: { type: "root" as const }, requestId: `usage-${i}`, auditId: newId("aud") };
      const outcome = await gateOf(env, record.id).create({ record }, hash, "key.create", context);
      expect(outcome.ok).toBe(true);
    }
  }
  if (statements.length > 0) await env.DB.batch(statements);
}

describe("portal: GET /usage is bounded", () => {
  it(`sums at most ${MAX_SUMMED_KEYS} keys, one object call each: past that, a problem and no object call`, async () => {
    const ws = await organisation();
    const owner = await member(ws.org, "owner", "uma");
    const ivy = await member(ws.org, "member", "ivy");
    await revokedKeys(ws.id, "server", null, 2 * MAX_SUMMED_KEYS);
    await revokedKeys(ws.id, "member", "ivy", MAX_SUMMED_KEYS, true);
    // The workspace's keys (a member with keys:read): past the cap, refused before any object call.
    const many = countingGates(env.KEY_GATE);
    const refused = await portalFetch("GET", "/usage", {
      token: owner,
      env: { ...DEFAULT_ENV, KEY_GATE: many.namespace },
    });
    const problem = await expectProblem(refused, 409, "limit_reached");
    expect(problem.detail).toContain(String(MAX_SUMMED_KEYS));
    expect(many.gets()).toBe(0);
    // The member's own keys: exactly the cap, summed with one call of each key's object.
    const own = countingGates(env.KEY_GATE);
    const summed = await portal("GET", "/usage", {
      token: ivy,
      env: { ...DEFAULT_ENV, KEY_GATE: own.namespace },
    });
    expect(summed.status).toBe(200);
    expect(summed.json.items.at(-1)).toEqual(expect.objectContaining({ allowed: 0, denied: {} }));
    expect(own.gets()).toBe(MAX_SUMMED_KEYS);
  }, 60_000);
});
