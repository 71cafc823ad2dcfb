/**
 * The upgrade of docs/admin-api.md: keys made when their Durable Object was addressed by the key's hash
 * keep working once objects are addressed by id. The first request (or admin call) that meets
 * an id-addressed object holding nothing has it adopt the key: the old object hands over its
 * state, counters and pending D1 writes once, and holds nothing afterwards.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/key-object/key-gate";
import { sha256Hex } from "../../src/keys/hash";
import { admin, call, createKey, createWorkspace, expectProblem, type Json, keyObject } from "./helpers";

/** Moves a key's object storage to where an earlier revision kept it: the object named by its hash. */
async function asBeforeTheUpgrade(key: string, id: string): Promise<void> {
  const current = keyObject(id);
  const stored = await runInDurableObject(current, async (_instance: KeyGate, state) => {
    const entries = Object.fromEntries(await state.storage.list());
    await state.storage.deleteAll();
    return entries;
  });
  await evictDurableObject(current);
  const legacy = env.KEY_GATE.get(env.KEY_GATE.idFromName(await sha256Hex(key)));
  await runInDurableObject(legacy, async (_instance: KeyGate, state) => {
    await state.storage.put(stored);
  });
  await evictDurableObject(legacy);
}

describe("upgrade from hash-addressed objects", () => {
  it("a key keeps its counters and state through the first request after the upgrade", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { limits: { minute: 4 } });
    for (let i = 0; i < 3; i++) expect((await call("/api/products", { key })).status).toBe(200);
    await asBeforeTheUpgrade(key, id);
    expect((await call("/api/products", { key })).status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 429, "rate_limited");
    const legacy = env.KEY_GATE.get(env.KEY_GATE.idFromName(await sha256Hex(key)));
    const held = await runInDurableObject(legacy, (instance: KeyGate) =>
      instance.snapshot({ workspaceId: null, permissions: null }),
    );
    expect(held).toBe("absent");
  });

  it("an admin revoke reaches a key not yet adopted", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    await asBeforeTheUpgrade(key, id);
    const revoked = await admin("POST", `/keys/${id}/revoke`);
    expect(revoked.status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
  });

  it("a key revoked before the upgrade stays revoked", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    await asBeforeTheUpgrade(key, id);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
    expect((await admin("GET", `/keys/${id}`)).json.revokedAt).toEqual(expect.any(String));
  });

  it("an adopted key counts in its owner's windows at once, whenever the owner was set", async () => {
    const ws = await createWorkspace();
    const owner = `adopted-${crypto.randomUUID().slice(0, 8)}`;
    const before = await createKey(ws, { ownerId: owner });
    const after = await createKey(ws, { ownerId: owner });
    expect((await admin("PUT", `/owners/${owner}?workspaceId=${ws}`, { limits: { day: 3 } })).status).toBe(
      200,
    );
    await asBeforeTheUpgrade(before.key, before.id);
    await asBeforeTheUpgrade(after.key, after.id);
    // Set while neither key's object held it: the push found nothing to update.
    expect((await admin("PUT", `/owners/${owner}?workspaceId=${ws}`, { limits: { day: 2 } })).status).toBe(
      200,
    );
    const codes: (string | null)[] = [];
    for (const key of [before.key, after.key, before.key, after.key]) {
      const response = await call("/api/products", { key, leases: false });
      codes.push(response.headers.get("x-portcullis-code"));
      await response.body?.cancel();
    }
    expect(codes).toEqual([null, null, "quota_exceeded", "quota_exceeded"]);
  });

  it("a state stored with an earlier revision's copy of the context loads; the copy is neither used nor kept", async () => {
    const ws = await createWorkspace("copied", "free");
    const { key, id } = await createKey(ws, { roles: ["viewer"], permissions: [] });
    const object = keyObject(id);
    // As earlier revisions stored it: a copy of the context, here one that differs from D1's.
    await runInDurableObject(object, async (_instance: KeyGate, state) => {
      const stored = (await state.storage.get<Json>("state")) ?? {};
      await state.storage.put("state", {
        ...stored,
        workspacePlan: "pro",
        rolePermissions: { viewer: [] },
        rolesCheckedAt: 1,
        ownerMetered: true,
        ownerRoles: [],
        ownerRolePermissions: {},
      });
    });
    await evictDurableObject(object);
    // Decided under the shard's context: the viewer role grants products:read, the plan is free.
    expect((await call("/api/products", { key })).status).toBe(200);
    expect((await admin("GET", `/keys/${id}`)).json.counters).toMatchObject({ plan: "free", limits: [] });
    expect((await admin("PATCH", `/keys/${id}`, { name: "renamed" })).status).toBe(200);
    const stored = await runInDurableObject(object, (_instance: KeyGate, state) =>
      state.storage.get<Json>("state"),
    );
    expect(Object.keys(stored ?? {}).sort()).toEqual(["deleted", "record"]);
    expect(stored?.record.name).toBe("renamed");
  });

  it("an id that names no key stays 404, and its empty object is not given a key", async () => {
    const unknown = "key_00000000000000000000";
    expect((await admin("POST", `/keys/${unknown}/revoke`)).status).toBe(404);
    expect((await admin("GET", `/keys/${unknown}`)).status).toBe(404);
  });
});

describe("a deploy's mixed versions", () => {
  it("a key's object refuses an update sent with the earlier revision's arguments, and changes nothing", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws, { roles: ["viewer"] });
    const object = keyObject(id);
    // A Worker of the earlier revision sent (scope, patch, rolePermissions, context): its role
    // map would be taken for the change's context, with no actor, request or audit id.
    const earlier = object as unknown as { update(...args: unknown[]): Promise<unknown> };
    const scope = { workspaceId: null, permissions: null };
    const context = { actor: { type: "root" }, requestId: "mixed-1", auditId: "aud_mixedversion1" };
    expect(await earlier.update(scope, { roles: [] }, {}, context)).toEqual({
      ok: false,
      code: "unavailable",
    });
    const queued = await runInDurableObject(object, (_instance: KeyGate, state) =>
      state.storage.list({ prefix: "repair" }),
    );
    expect([...queued.keys()]).toEqual([]);
    expect((await admin("GET", `/keys/${id}`)).json.roles).toEqual(["viewer"]);
    expect((await admin("PATCH", `/keys/${id}`, { name: "still-writable" })).status).toBe(200);
  });
});
