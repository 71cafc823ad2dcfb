/**
 * The audit log (docs/admin-api.md): every admin change, shaped as docs/admin-api.md says, newest first, paged,
 * never holding a secret, only the caller's workspace for an admin key.
 */
import { describe, expect, it } from "vitest";
import { admin, createKey, createWorkspace, type Json } from "./helpers";

describe("audit log", () => {
  it("records each change with actor, action, target, request id and before/after, newest first", async () => {
    const ws = await createWorkspace("audited");
    const manager = await createKey(ws, { type: "admin", permissions: ["*"] });
    const created = await admin("POST", "/keys", { workspaceId: ws, type: "server", name: "a" }, manager.key);
    const patched = await admin("PATCH", `/keys/${created.json.id}`, { name: "b" });
    await admin("POST", "/roles", { workspaceId: ws, name: "viewer", permissions: ["products:read"] });
    await admin("POST", `/keys/${created.json.id}/credits`, { op: "set", amount: 3 });
    await admin("POST", `/keys/${created.json.id}/revoke`);
    await admin("DELETE", `/keys/${created.json.id}`);
    await admin("DELETE", `/roles/viewer?workspaceId=${ws}`);
    await admin("PATCH", `/workspaces/${ws}`, { name: "renamed" });

    const { status, json } = await admin("GET", `/audit?workspaceId=${ws}`);
    expect(status).toBe(200);
    const actions = json.items.map((entry: Json) => entry.action);
    expect(actions).toEqual([
      "workspace.update",
      "role.delete",
      "key.delete",
      "key.revoke",
      "key.credits",
      "role.upsert",
      "key.update",
      "key.create",
      "key.create",
      "workspace.create",
    ]);
    const update = json.items.find((entry: Json) => entry.action === "key.update");
    expect(update).toEqual({
      id: expect.stringMatching(/^aud_/),
      at: expect.any(String),
      workspaceId: ws,
      actor: { type: "root" },
      action: "key.update",
      targetId: created.json.id,
      requestId: patched.headers.get("x-request-id"),
      before: expect.objectContaining({ name: "a" }),
      after: expect.objectContaining({ name: "b" }),
    });
    const byKey = json.items.find(
      (entry: Json) => entry.action === "key.create" && entry.targetId === created.json.id,
    );
    expect(byKey.actor).toEqual({ type: "admin_key", id: manager.id });
    expect(JSON.stringify(json)).not.toContain(created.json.key);
    expect(JSON.stringify(json)).not.toContain(manager.key);
  });

  it("pages with a cursor and scopes an admin key to its workspace", async () => {
    const ws = await createWorkspace();
    for (let i = 0; i < 4; i++) await createKey(ws);
    const first = await admin("GET", `/audit?workspaceId=${ws}&limit=3`);
    expect(first.json.items).toHaveLength(3);
    const second = await admin("GET", `/audit?workspaceId=${ws}&limit=3&cursor=${first.json.cursor}`);
    expect(second.json.items).toHaveLength(2);
    expect(second.json.cursor).toBeNull();
    const seen = [...first.json.items, ...second.json.items].map((entry: Json) => entry.id);
    expect(new Set(seen).size).toBe(5);
    const reader = await createKey(ws, { type: "admin", permissions: ["audit:read"] });
    const own = await admin("GET", "/audit", undefined, reader.key);
    expect(own.status).toBe(200);
    expect(own.json.items.every((entry: Json) => entry.workspaceId === ws)).toBe(true);
  });
});
