/**
 * `createdBy` of a key record (docs/admin-api.md#keys): who created, imported or rotated the key,
 * kept in D1 and in the key's object alike, and null for keys created before it was recorded.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/key-object/key-gate";
import { admin, createKey, createWorkspace, keyObject } from "./helpers";

async function storedCreatedBy(id: string): Promise<unknown> {
  const row = await env.DB.prepare("SELECT created_by FROM keys WHERE id = ?1")
    .bind(id)
    .first<{ created_by: string | null }>();
  return row?.created_by === null || row?.created_by === undefined ? null : JSON.parse(row.created_by);
}

async function listed(workspaceId: string, id: string) {
  const page = await admin("GET", `/keys?workspaceId=${workspaceId}&limit=100`);
  return page.json.items.find((item: { id: string }) => item.id === id);
}

describe("createdBy", () => {
  it("is root for a key the root token creates, in the answer, GET, the list and D1", async () => {
    const ws = await createWorkspace();
    const { id, record } = await createKey(ws);
    expect(record.createdBy).toEqual({ type: "root" });
    expect((await admin("GET", `/keys/${id}`)).json.createdBy).toEqual({ type: "root" });
    expect((await listed(ws, id)).createdBy).toEqual({ type: "root" });
    expect(await storedCreatedBy(id)).toEqual({ type: "root" });
  });

  it("names the admin key that created or imported a key", async () => {
    const ws = await createWorkspace();
    const operator = await createKey(ws, { type: "admin", permissions: ["keys:write", "keys:read"] });
    const created = await admin("POST", "/keys", { workspaceId: ws, type: "server" }, operator.key);
    expect(created.status).toBe(201);
    const expected = { type: "admin_key", id: operator.id };
    expect(created.json.createdBy).toEqual(expected);
    expect((await admin("GET", `/keys/${created.json.id}`, undefined, operator.key)).json.createdBy).toEqual(
      expected,
    );
    expect(await storedCreatedBy(created.json.id)).toEqual(expected);

    const imported = await admin(
      "POST",
      "/keys/import",
      { workspaceId: ws, type: "legacy", key: `lg_${crypto.randomUUID().replaceAll("-", "")}` },
      operator.key,
    );
    expect(imported.status, imported.text).toBe(201);
    expect(imported.json.createdBy).toEqual(expected);
    expect(await storedCreatedBy(imported.json.id)).toEqual(expected);
  });

  it("of a rotated key is who rotated it, not who created the original", async () => {
    const ws = await createWorkspace();
    const original = await createKey(ws);
    const operator = await createKey(ws, { type: "admin", permissions: ["keys:write", "keys:read"] });
    const rotated = await admin("POST", `/keys/${original.id}/rotate`, {}, operator.key);
    expect(rotated.status, rotated.text).toBe(201);
    const expected = { type: "admin_key", id: operator.id };
    expect(rotated.json.createdBy).toEqual(expected);
    expect((await admin("GET", `/keys/${rotated.json.id}`)).json.createdBy).toEqual(expected);
    expect(await storedCreatedBy(rotated.json.id)).toEqual(expected);
    // The original keeps its own.
    expect((await admin("GET", `/keys/${original.id}`)).json.createdBy).toEqual({ type: "root" });
  });

  it("is null for a key created before it was recorded, in its object and in D1", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    // As an earlier revision left it: no createdBy in the object's record, NULL in D1.
    const object = keyObject(id);
    await runInDurableObject(object, async (_instance: KeyGate, state) => {
      const stored = (await state.storage.get("state")) as { record: Record<string, unknown> };
      delete stored.record.createdBy;
      await state.storage.put("state", stored);
    });
    await evictDurableObject(object);
    await env.DB.prepare("UPDATE keys SET created_by = NULL WHERE id = ?1").bind(id).run();
    const got = await admin("GET", `/keys/${id}`);
    expect(got.status).toBe(200);
    expect(got.json).toHaveProperty("createdBy", null);
    expect((await listed(ws, id)).createdBy).toBeNull();
  });
});
