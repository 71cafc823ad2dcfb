/**
 * A rotated key's record tells the truth (docs/admin-api.md, Rotation): revoking or deleting its
 * successor, or revoking the owner, revokes a predecessor still in its grace, in its object and
 * in D1, so that GET, the list (read from D1) and everything built on them say `revokedAt`.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  admin,
  adminRequest,
  call,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  type Json,
} from "./helpers";

/** A KEY_GATE binding whose objects fail to end a predecessor's grace. */
function failingEndGrace(namespace: typeof env.KEY_GATE): typeof env.KEY_GATE {
  return {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) =>
      new Proxy(namespace.get(id), {
        get(target, property) {
          if (property === "endGrace") return () => Promise.reject(new Error("object unreachable"));
          return Reflect.get(target, property);
        },
      }),
  } as unknown as typeof env.KEY_GATE;
}

async function rotate(id: string): Promise<Json> {
  const answer = await admin("POST", `/keys/${id}/rotate`, { gracePeriodSeconds: 3_600 });
  expect(answer.status, answer.text).toBe(201);
  return answer.json;
}

async function listed(ws: string, id: string): Promise<Json | undefined> {
  const answer = await admin("GET", `/keys?workspaceId=${ws}&limit=100`);
  expect(answer.status, answer.text).toBe(200);
  return answer.json.items.find((item: Json) => item.id === id);
}

async function expectRevoked(ws: string, id: string, key: string): Promise<void> {
  const record = await admin("GET", `/keys/${id}`);
  expect(record.json.revokedAt, `GET ${id}`).toEqual(expect.any(String));
  expect((await listed(ws, id))?.revokedAt, `list ${id}`).toEqual(expect.any(String));
  await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
}

describe("a rotated key's record", () => {
  it("reads revoked, in GET and in the list, once its successor is revoked", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws);
    const next = await rotate(old.id);
    expect((await call("/api/products", { key: old.key })).status).toBe(200);
    expect((await admin("POST", `/keys/${next.id}/revoke`)).status).toBe(200);
    await expectRevoked(ws, old.id, old.key);
    const events = await env.DB.prepare("SELECT type FROM events WHERE json_extract(data, '$.keyId') = ?1")
      .bind(old.id)
      .all<{ type: string }>();
    expect(events.results.map((row) => row.type)).toContain("key.revoked");
    // The old key is revoked for good, like any revoked key.
    const patched = await admin("PATCH", `/keys/${old.id}`, { name: "again" });
    expect([patched.status, patched.json.code]).toEqual([409, "key_revoked"]);
  });

  it("reads revoked down a chain of rotations once the last key is deleted", async () => {
    const ws = await createWorkspace();
    const first = await createKey(ws);
    const second = await rotate(first.id);
    const third = await rotate(second.id);
    expect((await admin("DELETE", `/keys/${third.id}`)).status).toBe(204);
    await expectRevoked(ws, second.id, second.key);
    await expectRevoked(ws, first.id, first.key);
  });

  it("reads revoked after an owner revoke, which counts the predecessors it revoked", async () => {
    const ws = await createWorkspace();
    const ownerId = `rotation-${crypto.randomUUID().slice(0, 8)}`;
    const old = await createKey(ws, { ownerId });
    const next = await rotate(old.id);
    const revoked = await admin("POST", `/owners/${ownerId}/revoke?workspaceId=${ws}`);
    expect([revoked.status, revoked.json]).toEqual([200, { revoked: 2 }]);
    await expectRevoked(ws, old.id, old.key);
    await expectRevoked(ws, next.id, next.key);
  });

  it("reads revoked after an owner revoke of the owner its successor moved to", async () => {
    const ws = await createWorkspace();
    const before = `from-${crypto.randomUUID().slice(0, 8)}`;
    const after = `to-${crypto.randomUUID().slice(0, 8)}`;
    const old = await createKey(ws, { ownerId: before });
    const next = await rotate(old.id);
    expect((await admin("PATCH", `/keys/${next.id}`, { ownerId: after })).status).toBe(200);
    const revoked = await admin("POST", `/owners/${after}/revoke?workspaceId=${ws}`);
    expect([revoked.status, revoked.json]).toEqual([200, { revoked: 2 }]);
    await expectRevoked(ws, old.id, old.key);
  });

  it("answers 503 when a predecessor cannot be reached, and a retried revoke completes it", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws);
    const next = await rotate(old.id);
    const failed = await direct(adminRequest("POST", `/keys/${next.id}/revoke`), {
      KEY_GATE: failingEndGrace(env.KEY_GATE),
    });
    expect(failed.status).toBe(503);
    // The successor is revoked, so the old key is refused already; its record catches up on retry.
    await expectProblem(await call("/api/products", { key: old.key }), 401, "key_revoked");
    expect((await admin("GET", `/keys/${old.id}`)).json.revokedAt).toBeNull();
    expect((await admin("POST", `/keys/${next.id}/revoke`)).status).toBe(200);
    await expectRevoked(ws, old.id, old.key);
  });
});
