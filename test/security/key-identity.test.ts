/**
 * Attack class: credentials decided under the wrong identity. A key is decided under its
 * record's type, never the type its prefix suggests (a key imported by hash cannot borrow
 * another type's rules), and plan and role names are looked up as own entries only, so
 * `constructor` or `__proto__` never resolve to something inherited.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import { admin, call, createKey, createWorkspace, expectProblem } from "../worker/helpers";

describe("a key is decided under its record's type", () => {
  it("a key imported by hash under another type than its prefix names is invalid_key, counted nowhere", async () => {
    const ws = await createWorkspace();
    const value = "lg_borrowed-prefix-of-another-type";
    const imported = await admin("POST", "/keys/import", {
      workspaceId: ws,
      type: "browser",
      hash: await sha256Hex(value),
      limits: { minute: 2 },
    });
    expect(imported.status).toBe(201);
    for (let i = 0; i < 4; i++) {
      await expectProblem(await call("/api/products", { key: value }), 401, "invalid_key");
    }
    const detail = await admin("GET", `/keys/${imported.json.id}`);
    expect(detail.json.counters.limits[0]).toMatchObject({ window: "minute", remaining: 2 });
    expect(detail.json.lastUsedAt).toBeNull();
  });

  it("the same import under the type its prefix names works", async () => {
    const ws = await createWorkspace();
    const value = "lg_matching-prefix";
    const imported = await admin("POST", "/keys/import", {
      workspaceId: ws,
      type: "legacy",
      hash: await sha256Hex(value),
    });
    expect(imported.status).toBe(201);
    expect((await call("/api/anything", { key: value })).status).toBe(200);
  });
});

describe("plan and role names are own entries only", () => {
  it("refuses plans named constructor or __proto__ (they are not defined)", async () => {
    const ws = await createWorkspace();
    for (const plan of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const key = await admin("POST", "/keys", { workspaceId: ws, type: "server", plan });
      expect([key.status, key.json.code], plan).toEqual([400, "bad_request"]);
      const workspace = await admin("POST", "/workspaces", { name: "w", plan });
      expect([workspace.status, workspace.json.code], plan).toEqual([400, "bad_request"]);
    }
  });

  it("a key on a real plan keeps that plan's limits", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { plan: "burst" });
    expect((await call("/api/products", { key })).status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 429, "rate_limited");
  });

  it("a role named constructor works while it exists and means nothing once deleted", async () => {
    const ws = await createWorkspace();
    const role = await admin("POST", "/roles", {
      workspaceId: ws,
      name: "constructor",
      permissions: ["reports:read"],
    });
    expect(role.status).toBe(201);
    const { key } = await createKey(ws, { permissions: [], roles: ["constructor"] });
    const allowed = await call("/api/reports", { key });
    expect(allowed.status).toBe(200);
    expect(
      ((await allowed.json()) as { headers: Record<string, string> }).headers["x-portcullis-permissions"],
    ).toBe("reports:read");
    expect((await admin("DELETE", `/roles/constructor?workspaceId=${ws}`)).status).toBe(204);
    const denied = await call("/api/reports", { key });
    await expectProblem(denied, 403, "insufficient_permissions");
    const other = await call("/api/anything", { key });
    expect(other.status).toBe(200);
    const { headers } = (await other.json()) as { headers: Record<string, string> };
    expect(headers["x-portcullis-permissions"]).toBe("");
    expect(JSON.stringify(headers)).not.toContain("[object");
  });
});
