/**
 * The consistency rule (docs/consistency.md), tested by failing each side. A restriction is in force in the
 * key's Durable Object before it is reported and completed in D1 by the object's alarm when D1
 * failed; a widening is in D1 first and undone when D1 fails; when the object fails nothing
 * changes anywhere. A failed write may leave a key more restricted than reported, never less.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { failingDb, failingObjects, objectsWithDb, restoreObjectDbs, setObjectDb } from "./faults";
import {
  admin,
  adminRequest,
  call,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  keyObjectFor,
} from "./helpers";

/** Makes D1 fail inside the key's Durable Object (writes only). */
async function breakD1(key: string) {
  const stub = await keyObjectFor(key);
  await setObjectDb(stub, failingDb());
  return stub;
}

afterEach(restoreObjectDbs);

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
  it("a revoke whose D1 write fails is in force at once (200) and completed by the alarm", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const stub = await breakD1(key);
    const revoke = await admin("POST", `/keys/${id}/revoke`);
    expect(revoke.status).toBe(200);
    expect(revoke.json.revokedAt).toEqual(expect.any(String));
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
    expect((await row(id))?.revoked_at).toBeNull();
    expect(await auditCount(id, "key.revoke")).toBe(0);
    restoreObjectDbs();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await row(id))?.revoked_at).toBe(Date.parse(revoke.json.revokedAt));
    expect(await auditCount(id, "key.revoke")).toBe(1);
  });

  it("another restriction whose D1 write fails is in force at once, answered 503, and completed by the alarm", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const stub = await breakD1(key);
    const narrow = await admin("PATCH", `/keys/${id}`, { permissions: ["products:read"] });
    expect([narrow.status, narrow.json.code]).toEqual([503, "unavailable"]);
    await expectProblem(
      await call("/api/products", { key, method: "POST" }),
      403,
      "insufficient_permissions",
    );
    expect((await row(id))?.permissions).toBe('["products:read","products:write"]');
    restoreObjectDbs();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await row(id))?.permissions).toBe('["products:read"]');
    expect(await auditCount(id, "key.update")).toBe(1);
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
        await direct(adminRequest(method, path, body), { KEY_GATE: failingObjects() }),
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
    const failed = await direct(
      adminRequest("POST", "/keys/import", { workspaceId: ws, type: "legacy", key }),
      {
        KEY_GATE: objectsWithDb(failingDb()),
      },
    );
    await expectProblem(failed, 503, "unavailable");
    const { results } = await env.DB.prepare("SELECT id FROM keys WHERE workspace_id = ?1").bind(ws).all();
    expect(results).toEqual([]);
    await expectProblem(await call("/api/anything", { key }), 401, "invalid_key");
    restoreObjectDbs();
    expect((await admin("POST", "/keys/import", { workspaceId: ws, type: "legacy", key })).status).toBe(201);
    expect((await call("/api/anything", { key })).status).toBe(200);
  });
});
