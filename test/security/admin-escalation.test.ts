/**
 * Attack class: admin escalation. An admin key may create, import, patch, rotate, revoke or
 * delete an admin key only if it holds every permission that key holds, and grant only what it
 * holds: no admin key can raise itself, mint a stronger key by rotation, or disable a stronger
 * one. A rotated key cannot be revived by moving its expiry.
 */
import { describe, expect, it } from "vitest";
import { admin, call, createKey, createWorkspace, expectProblem } from "../worker/helpers";

async function team() {
  const ws = await createWorkspace();
  const root = await createKey(ws, { type: "admin", permissions: ["*"] });
  const writer = await createKey(ws, { type: "admin", permissions: ["keys:write", "keys:read"] });
  const revoker = await createKey(ws, { type: "admin", permissions: ["keys:revoke", "keys:read"] });
  return { ws, root, writer, revoker };
}

async function record(id: string) {
  return (await admin("GET", `/keys/${id}`)).json;
}

describe("admin-key hierarchy", () => {
  it("a keys:write admin key cannot rotate a stronger admin key (no `*` key is minted)", async () => {
    const { root, writer } = await team();
    const rotated = await admin("POST", `/keys/${root.id}/rotate`, {}, writer.key);
    expect([rotated.status, rotated.json.code]).toEqual([403, "insufficient_permissions"]);
    expect(rotated.json.key).toBeUndefined();
    expect((await record(root.id)).expiresAt).toBeNull();
    // The stronger key still works.
    expect((await admin("GET", `/keys/${writer.id}`, undefined, root.key)).status).toBe(200);
  });

  it("cannot disable, narrow or otherwise patch a stronger admin key", async () => {
    const { root, writer } = await team();
    for (const change of [
      { enabled: false },
      { permissions: ["keys:read"] },
      { name: "pwned" },
      { expiresAt: "2030-01-01T00:00:00Z" },
    ]) {
      const patched = await admin("PATCH", `/keys/${root.id}`, change, writer.key);
      expect([patched.status, patched.json.code], JSON.stringify(change)).toEqual([
        403,
        "insufficient_permissions",
      ]);
    }
    expect(await record(root.id)).toMatchObject({
      enabled: true,
      permissions: ["*"],
      name: null,
      expiresAt: null,
    });
  });

  it("cannot revoke or delete a stronger admin key", async () => {
    const { root, revoker } = await team();
    const revoked = await admin("POST", `/keys/${root.id}/revoke`, undefined, revoker.key);
    expect([revoked.status, revoked.json.code]).toEqual([403, "insufficient_permissions"]);
    const deleted = await admin("DELETE", `/keys/${root.id}`, undefined, revoker.key);
    expect([deleted.status, deleted.json.code]).toEqual([403, "insufficient_permissions"]);
    expect((await record(root.id)).revokedAt).toBeNull();
  });

  it("cannot change the credits of a stronger admin key", async () => {
    const { root, writer } = await team();
    const changed = await admin("POST", `/keys/${root.id}/credits`, { op: "set", amount: 0 }, writer.key);
    expect([changed.status, changed.json.code]).toEqual([403, "insufficient_permissions"]);
  });

  it("can change admin keys it covers, itself included, but never raise itself", async () => {
    const { ws, writer } = await team();
    const weaker = await createKey(ws, { type: "admin", permissions: ["keys:read"] });
    expect((await admin("PATCH", `/keys/${weaker.id}`, { enabled: false }, writer.key)).status).toBe(200);
    const rotated = await admin("POST", `/keys/${weaker.id}/rotate`, {}, writer.key);
    expect([rotated.status, rotated.json.permissions]).toEqual([201, ["keys:read"]]);
    const raised = await admin("PATCH", `/keys/${writer.id}`, { permissions: ["*"] }, writer.key);
    expect([raised.status, raised.json.code]).toEqual([403, "insufficient_permissions"]);
    const selfRotated = await admin("POST", `/keys/${writer.id}/rotate`, {}, writer.key);
    expect([selfRotated.status, selfRotated.json.permissions]).toEqual([201, ["keys:write", "keys:read"]]);
  });

  it("cannot import an admin key stronger than itself", async () => {
    const { ws, writer } = await team();
    const imported = await admin(
      "POST",
      "/keys/import",
      { workspaceId: ws, type: "admin", hash: "a".repeat(64), permissions: ["*"] },
      writer.key,
    );
    expect([imported.status, imported.json.code]).toEqual([403, "insufficient_permissions"]);
  });

  it("an admin key takes no roles and no plan", async () => {
    const { ws, writer } = await team();
    await admin("POST", "/roles", { workspaceId: ws, name: "ops", permissions: ["*"] });
    const withPlan = await admin("POST", "/keys", { workspaceId: ws, type: "admin", plan: "pro" });
    expect([withPlan.status, withPlan.json.code]).toEqual([400, "bad_request"]);
    const withRole = await admin("POST", "/keys", { workspaceId: ws, type: "admin", roles: ["ops"] });
    expect([withRole.status, withRole.json.code]).toEqual([400, "bad_request"]);
    for (const change of [{ roles: ["ops"] }, { plan: "pro" }]) {
      const patched = await admin("PATCH", `/keys/${writer.id}`, change);
      expect([patched.status, patched.json.code], JSON.stringify(change)).toEqual([400, "bad_request"]);
    }
  });
});

describe("a rotated key stays retired", () => {
  it("its expiry cannot be cleared or moved later (409), only earlier", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws);
    const rotated = await admin("POST", `/keys/${old.id}/rotate`, { gracePeriodSeconds: 60 });
    expect(rotated.status).toBe(201);
    const ends = Date.parse((await record(old.id)).expiresAt);
    for (const expiresAt of [null, new Date(ends + 3_600_000).toISOString()]) {
      const revived = await admin("PATCH", `/keys/${old.id}`, { expiresAt });
      expect([revived.status, revived.json.code], String(expiresAt)).toEqual([409, "conflict"]);
    }
    expect(Date.parse((await record(old.id)).expiresAt)).toBe(ends);
    const earlier = await admin("PATCH", `/keys/${old.id}`, {
      expiresAt: new Date(ends - 30_000).toISOString(),
    });
    expect(earlier.status).toBe(200);
  });

  it("after a rotation without grace the old key stays expired whatever is patched", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws);
    expect((await admin("POST", `/keys/${old.id}/rotate`)).status).toBe(201);
    expect((await admin("PATCH", `/keys/${old.id}`, { expiresAt: null })).status).toBe(409);
    await expectProblem(await call("/api/products", { key: old.key }), 401, "key_expired");
  });
});

describe("an admin key's owner is a label", () => {
  it("a weaker admin key cannot lock a stronger one out through its owner's limits or credits", async () => {
    const ws = await createWorkspace();
    const strong = await createKey(ws, { type: "admin", permissions: ["*"], ownerId: "ops" });
    const weak = await createKey(ws, {
      type: "admin",
      permissions: ["audit:read", "keys:read", "keys:write", "keys:verify"],
    });
    for (const settings of [{ limits: { day: 1, second: 1 } }, { credits: { remaining: 0 } }]) {
      const put = await admin("PUT", `/owners/ops?workspaceId=${ws}`, settings, weak.key);
      expect(put.status, put.text).toBe(200);
      for (let i = 0; i < 3; i++) {
        const read = await admin("GET", `/keys/${weak.id}`, undefined, strong.key);
        expect([read.status, read.json.code], JSON.stringify(settings)).toEqual([200, undefined]);
      }
      // Nor do its calls count in the owner's windows: they are the owner's other keys' alone.
      const owner = await admin("GET", `/owners/ops?workspaceId=${ws}`, undefined, strong.key);
      expect(owner.status).toBe(200);
      for (const window of owner.json.limits) expect(window.remaining, window.window).toBe(1);
    }
  });
});
