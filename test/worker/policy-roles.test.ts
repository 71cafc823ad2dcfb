/**
 * Roles of `policy.roles` (docs/policy.md#roles): known in every workspace; a workspace role of
 * the same name replaces the policy's in that workspace, and deleting it brings the policy's
 * back, for keys already in use as for the listing.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/key-object/key-gate";
import { TEST_POLICY } from "../fixtures/policy";
import { admin, call, createKey, createWorkspace, expectProblem, type Json, keyObject } from "./helpers";

const read = (key: string) => call("/api/products", { key, leases: false });
const write = (key: string) => call("/api/products", { key, method: "POST", leases: false });

describe("policy roles", () => {
  it("the test policy defines `viewer` and `editor`", () => {
    expect(TEST_POLICY.roles).toMatchObject({
      viewer: { permissions: ["products:read"] },
      editor: { permissions: ["products:read", "products:write"] },
    });
  });

  it("a key with the policy's `viewer` holds its permissions in every workspace", async () => {
    for (const name of ["first", "second"]) {
      const ws = await createWorkspace(name);
      const { key, record } = await createKey(ws, { permissions: [], roles: ["viewer"] });
      expect(record.roles).toEqual(["viewer"]);
      expect((await read(key)).status).toBe(200);
      await expectProblem(await write(key), 403, "insufficient_permissions");
    }
  });

  it("keeps them when the key's object asks its context anew", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: [], roles: ["editor"] });
    expect((await write(key)).status).toBe(200);
    const start = Date.now();
    await runInDurableObject(keyObject(id), (instance: KeyGate) => {
      // Past any context lease: the next decision asks the workspace's context shard.
      instance.now = () => start + 60_000;
    });
    expect((await write(key)).status).toBe(200);
  });

  it("PATCH gives a key a policy role", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: [] });
    await expectProblem(await read(key), 403, "insufficient_permissions");
    const patched = await admin("PATCH", `/keys/${id}`, { roles: ["viewer"] });
    expect(patched.status, patched.text).toBe(200);
    expect((await read(key)).status).toBe(200);
  });

  it("a workspace role of the same name overrides it there only; deleting it restores the policy's", async () => {
    const here = await createWorkspace("here");
    const there = await createWorkspace("there");
    const mine = await createKey(here, { permissions: [], roles: ["viewer"] });
    const theirs = await createKey(there, { permissions: [], roles: ["viewer"] });

    const upsert = await admin("POST", "/roles", {
      workspaceId: here,
      name: "viewer",
      permissions: ["products:read", "products:write"],
    });
    expect(upsert.status).toBe(201);
    expect(upsert.json).toMatchObject({ name: "viewer", source: "workspace" });
    expect((await write(mine.key)).status).toBe(200);
    await expectProblem(await write(theirs.key), 403, "insufficient_permissions");

    // A workspace role narrower than the policy's narrows too.
    expect(
      (await admin("POST", "/roles", { workspaceId: here, name: "viewer", permissions: [] })).status,
    ).toBe(201);
    await expectProblem(await read(mine.key), 403, "insufficient_permissions");
    expect((await read(theirs.key)).status).toBe(200);

    expect((await admin("DELETE", `/roles/viewer?workspaceId=${here}`)).status).toBe(204);
    expect((await read(mine.key)).status).toBe(200);
    await expectProblem(await write(mine.key), 403, "insufficient_permissions");
  });

  it("lists policy roles with `source`, a workspace role replacing the policy's of its name", async () => {
    const ws = await createWorkspace();
    const bySource = async () => {
      const listed = await admin("GET", `/roles?workspaceId=${ws}`);
      expect(listed.status).toBe(200);
      return Object.fromEntries(listed.json.items.map((item: Json) => [item.name, item]));
    };
    const before = await bySource();
    expect(before.viewer).toEqual({
      workspaceId: ws,
      name: "viewer",
      permissions: ["products:read"],
      source: "policy",
      createdAt: null,
      updatedAt: null,
    });
    expect(before.editor).toMatchObject({ source: "policy" });

    await admin("POST", "/roles", { workspaceId: ws, name: "viewer", permissions: ["reports:read"] });
    await admin("POST", "/roles", { workspaceId: ws, name: "analyst", permissions: ["reports:read"] });
    const after = await bySource();
    expect(Object.keys(after).sort()).toEqual(["analyst", "editor", "viewer"]);
    expect(after.viewer).toMatchObject({ source: "workspace", permissions: ["reports:read"] });
    expect(after.viewer.createdAt).toEqual(expect.any(String));
    expect(after.analyst).toMatchObject({ source: "workspace" });
    expect(after.editor).toMatchObject({ source: "policy" });
  });

  it("a policy role cannot be deleted through the API: 409, and it stays in force", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { permissions: [], roles: ["viewer"] });
    const answer = await admin("DELETE", `/roles/viewer?workspaceId=${ws}`);
    expect(answer.status).toBe(409);
    expect(answer.json.code).toBe("conflict");
    expect((await read(key)).status).toBe(200);
    expect((await admin("DELETE", `/roles/nobody?workspaceId=${ws}`)).status).toBe(404);
  });

  it("names neither `constructor` nor `__proto__` as roles unless defined", async () => {
    const ws = await createWorkspace();
    for (const name of ["constructor", "__proto__", "toString"]) {
      const answer = await admin("POST", "/keys", { workspaceId: ws, type: "server", roles: [name] });
      expect(answer.status, name).toBe(400);
    }
  });
});
