/**
 * Rotation (docs/admin-api.md): a new key with the same settings; during the grace period both keys work
 * and draw on one set of limits, quotas and credits; after it, or at once without one, the old
 * key is `key_expired`.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/key-object/key-gate";
import { admin, call, createKey, createWorkspace, expectProblem, type Json, keyObjectFor } from "./helpers";

async function rotate(id: string, body?: Json) {
  return admin("POST", `/keys/${id}/rotate`, body);
}

describe("rotation", () => {
  it("without grace stops the old key before the response returns, and copies the settings", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws, {
      name: "svc",
      ownerId: "team-a",
      permissions: ["products:read"],
      meta: { env: "prod" },
      plan: "pro",
    });
    expect((await call("/api/products", { key: old.key })).status).toBe(200);
    const { status, json, headers } = await rotate(old.id);
    expect(status).toBe(201);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(json).toMatchObject({
      name: "svc",
      ownerId: "team-a",
      permissions: ["products:read"],
      meta: { env: "prod" },
      plan: "pro",
      rotatedFrom: old.id,
      key: expect.stringMatching(/^sk_test_/),
    });
    expect(json.id).not.toBe(old.id);
    await expectProblem(await call("/api/products", { key: old.key }), 401, "key_expired");
    expect((await call("/api/products", { key: json.key })).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT target_id FROM audit_log WHERE action = 'key.rotate' AND (target_id = ?1 OR target_id = ?2)",
    )
      .bind(old.id, json.id)
      .all();
    expect(audit.results.map((row) => row.target_id).sort()).toEqual([old.id, json.id].sort());
  });

  it("with grace keeps both keys working on one set of limits and credits", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws, { limits: { minute: 6 }, credits: { remaining: 100 } });
    expect((await call("/api/products", { key: old.key })).status).toBe(200);
    const next = (await rotate(old.id, { gracePeriodSeconds: 3_600 })).json;
    // One set of counters: the old key's use before the rotation counts too.
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push((await call("/api/products", { key: old.key })).status);
      results.push((await call("/api/products", { key: next.key })).status);
    }
    expect(results).toEqual([200, 200, 200, 200, 200, 429]);
    const shared = await call("/api/expensive", { key: old.key });
    expect(shared.status).toBe(429);
    const detail = await admin("GET", `/keys/${next.id}`);
    expect(detail.json.credits.remaining).toBe(100 - 6);
    // The old key reports the shared counters as its own.
    expect(shared.headers.get("ratelimit")).toMatch(/^"minute";r=0;/);
  });

  it("ends the old key's grace period on time", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws);
    const next = (await rotate(old.id, { gracePeriodSeconds: 60 })).json;
    expect((await call("/api/products", { key: old.key })).status).toBe(200);
    const stub = await keyObjectFor(old.key);
    await runInDurableObject(stub, (instance: KeyGate) => {
      instance.now = () => Date.now() + 61_000;
    });
    await expectProblem(await call("/api/products", { key: old.key }), 401, "key_expired");
    expect((await call("/api/products", { key: next.key })).status).toBe(200);
  });

  it("refuses to rotate a revoked key or one rotated already", async () => {
    const ws = await createWorkspace();
    const revoked = await createKey(ws);
    await admin("POST", `/keys/${revoked.id}/revoke`);
    const refused = await rotate(revoked.id);
    expect([refused.status, refused.json.code]).toEqual([409, "key_revoked"]);
    const once = await createKey(ws);
    expect((await rotate(once.id, { gracePeriodSeconds: 10 })).status).toBe(201);
    const twice = await rotate(once.id);
    expect([twice.status, twice.json.code]).toEqual([409, "conflict"]);
    expect((await rotate(once.id, { gracePeriodSeconds: -1 })).status).toBe(400);
  });
});

describe("revocation is permanent", () => {
  it("nothing re-enables a revoked key", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    await admin("POST", `/keys/${id}/revoke`);
    for (const [method, path, body] of [
      ["PATCH", `/keys/${id}`, { enabled: true }],
      ["PATCH", `/keys/${id}`, { expiresAt: null }],
      ["POST", `/keys/${id}/credits`, { op: "set", amount: 5 }],
      ["POST", `/keys/${id}/rotate`, {}],
    ] as const) {
      const response = await admin(method, path, body);
      expect([response.status, response.json.code], path).toEqual([409, "key_revoked"]);
    }
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
  });
});
