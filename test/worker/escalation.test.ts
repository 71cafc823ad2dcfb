/**
 * An admin key can grant only the admin permissions it holds (docs/admin-api.md): no escalation through
 * key creation or a patch.
 */
import { describe, expect, it } from "vitest";
import { admin, createKey, createWorkspace } from "./helpers";

describe("no escalation through admin keys", () => {
  it("creates admin keys only with permissions the caller holds", async () => {
    const ws = await createWorkspace();
    const writer = await createKey(ws, { type: "admin", permissions: ["keys:write", "keys:read"] });
    const create = (permissions: string[]) =>
      admin("POST", "/keys", { workspaceId: ws, type: "admin", permissions }, writer.key);
    expect((await create(["keys:read"])).status).toBe(201);
    expect((await create(["keys:read", "keys:write"])).status).toBe(201);
    for (const permissions of [["*"], ["keys:revoke"], ["audit:read"], ["keys:read", "roles:write"]]) {
      const refused = await create(permissions);
      expect([refused.status, refused.json.code], permissions.join()).toEqual([
        403,
        "insufficient_permissions",
      ]);
    }
    const notAdmin = await create(["products:read"]);
    expect([notAdmin.status, notAdmin.json.errors?.[0]?.field]).toEqual([400, "permissions"]);
  });

  it("cannot widen an admin key with a patch either", async () => {
    const ws = await createWorkspace();
    const writer = await createKey(ws, { type: "admin", permissions: ["keys:write"] });
    const target = await createKey(ws, { type: "admin", permissions: [] });
    const widened = await admin("PATCH", `/keys/${target.id}`, { permissions: ["keys:revoke"] }, writer.key);
    expect([widened.status, widened.json.code]).toEqual([403, "insufficient_permissions"]);
    expect(
      (await admin("PATCH", `/keys/${target.id}`, { permissions: ["keys:write"] }, writer.key)).status,
    ).toBe(200);
  });

  it("lets root create admin keys with any admin permission, and nothing else", async () => {
    const ws = await createWorkspace();
    expect(
      (await admin("POST", "/keys", { workspaceId: ws, type: "admin", permissions: ["*"] })).status,
    ).toBe(201);
    expect(
      (await admin("POST", "/keys", { workspaceId: ws, type: "admin", permissions: ["keys:fly"] })).status,
    ).toBe(400);
    expect((await admin("POST", "/keys", { workspaceId: ws, type: "admin", roles: ["x"] })).status).toBe(400);
  });

  it("an admin key works on its own workspace's admin API", async () => {
    const ws = await createWorkspace();
    const manager = await createKey(ws, {
      type: "admin",
      permissions: ["keys:write", "keys:read", "keys:revoke"],
    });
    const created = await admin("POST", "/keys", { workspaceId: ws, type: "server" }, manager.key);
    expect(created.status).toBe(201);
    expect((await admin("GET", `/keys/${created.json.id}`, undefined, manager.key)).status).toBe(200);
    expect((await admin("POST", `/keys/${created.json.id}/revoke`, undefined, manager.key)).status).toBe(200);
    expect(created.json.key).toMatch(/^sk_test_/);
    expect(manager.key).toMatch(/^pc_admin_[A-Za-z0-9]{32}_[0-9a-f]{8}$/);
  });
});
