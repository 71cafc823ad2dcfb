/**
 * The consistency rule of SPEC 6, tested by failing each side. A restriction is in force in the
 * key's Durable Object before it is reported and completed in D1 by the object's alarm when D1
 * failed; a widening is in D1 first and undone when D1 fails; when the object fails nothing
 * changes anywhere. A failed write may leave a key more restricted than reported, never less.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/gate/key-gate";
import { sha256Hex } from "../../src/keys/hash";
import { admin, adminRequest, call, createKey, createWorkspace, direct, expectProblem } from "./helpers";

const failingDb = {
  prepare: (sql: string) => env.DB.prepare(sql),
  batch: () => Promise.reject(new Error("D1_ERROR: network connection lost")),
} as unknown as D1Database;

const failingGates = {
  idFromName: (name: string) => env.KEY_GATE.idFromName(name),
  get: () => new Proxy({}, { get: () => () => Promise.reject(new Error("Durable Object is overloaded.")) }),
} as unknown as typeof env.KEY_GATE;

const broken: KeyGate[] = [];

/** Makes D1 fail inside the key's Durable Object (writes only). */
async function breakD1(key: string) {
  const stub = env.KEY_GATE.get(env.KEY_GATE.idFromName(await sha256Hex(key)));
  await runInDurableObject(stub, (instance: KeyGate) => {
    (instance as unknown as { env: typeof env }).env = { ...env, DB: failingDb };
    broken.push(instance);
  });
  return stub;
}

afterEach(() => {
  for (const instance of broken.splice(0)) (instance as unknown as { env: typeof env }).env = env;
});

async function row(id: string) {
  return env.DB.prepare("SELECT enabled, revoked_at, permissions, credits FROM keys WHERE id = ?1")
    .bind(id)
    .first<{
      enabled: number;
      revoked_at: number | null;
      permissions: string;
      credits: string | null;
    }>();
}

async function auditCount(id: string, action: string) {
  const result = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM audit_log WHERE target_id = ?1 AND action = ?2",
  )
    .bind(id, action)
    .first<{ n: number }>();
  return result?.n ?? 0;
}

describe("consistency rule", () => {
  it("a restriction whose D1 write fails is in force at once (503) and completed by the alarm", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const stub = await breakD1(key);
    const revoke = await admin("POST", `/keys/${id}/revoke`);
    expect([revoke.status, revoke.json.code]).toEqual([503, "unavailable"]);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
    expect((await row(id))?.revoked_at).toBeNull();
    expect(await auditCount(id, "key.revoke")).toBe(0);
    for (const instance of broken.splice(0)) (instance as unknown as { env: typeof env }).env = env;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await row(id))?.revoked_at).toEqual(expect.any(Number));
    expect(await auditCount(id, "key.revoke")).toBe(1);
  });

  it("a widening whose D1 write fails changes nothing (503)", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: ["products:read"] });
    await admin("PATCH", `/keys/${id}`, { enabled: false });
    await breakD1(key);
    const enable = await admin("PATCH", `/keys/${id}`, {
      enabled: true,
      permissions: ["products:read", "products:write"],
    });
    expect(enable.status).toBe(503);
    await expectProblem(await call("/api/products", { key }), 401, "key_disabled");
    expect(await row(id)).toMatchObject({ enabled: 0, permissions: '["products:read"]' });
    expect(await auditCount(id, "key.update")).toBe(1);
  });

  it("credits: lowering is in force before D1, raising waits for D1", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { credits: { remaining: 10 } });
    await breakD1(key);
    expect((await admin("POST", `/keys/${id}/credits`, { op: "increment", amount: 100 })).status).toBe(503);
    expect((await call("/api/products", { key })).headers.get("x-credits-remaining")).toBe("9");
    expect((await admin("POST", `/keys/${id}/credits`, { op: "set", amount: 0 })).status).toBe(503);
    await expectProblem(await call("/api/products", { key }), 429, "credits_exhausted");
  });

  it("when the Durable Object fails, neither side changes", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    for (const [method, path, body] of [
      ["POST", `/keys/${id}/revoke`, undefined],
      ["PATCH", `/keys/${id}`, { enabled: false }],
      ["PATCH", `/keys/${id}`, { permissions: ["*"] }],
      ["DELETE", `/keys/${id}`, undefined],
    ] as const) {
      await expectProblem(
        await direct(adminRequest(method, path, body), { KEY_GATE: failingGates }),
        503,
        "unavailable",
      );
    }
    expect(await row(id)).toMatchObject({ enabled: 1, revoked_at: null });
    expect(await auditCount(id, "key.update")).toBe(0);
    expect((await call("/api/products", { key })).status).toBe(200);
  });

  it("a new key whose D1 write fails is not created anywhere (503), and can be created again", async () => {
    const ws = await createWorkspace();
    const key = "lg_imported-while-d1-fails";
    await breakD1(key);
    const failed = await admin("POST", "/keys/import", { workspaceId: ws, type: "legacy", key });
    expect([failed.status, failed.json.code]).toEqual([503, "unavailable"]);
    const { results } = await env.DB.prepare("SELECT id FROM keys WHERE workspace_id = ?1").bind(ws).all();
    expect(results).toEqual([]);
    await expectProblem(await call("/api/anything", { key }), 401, "invalid_key");
    for (const instance of broken.splice(0)) (instance as unknown as { env: typeof env }).env = env;
    expect((await admin("POST", "/keys/import", { workspaceId: ws, type: "legacy", key })).status).toBe(201);
    expect((await call("/api/anything", { key })).status).toBe(200);
  });
});
