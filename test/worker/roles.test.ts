/**
 * Roles as named permission bundles, the plan's permissions, and how fast an edit of either
 * reaches keys already in use.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { contextObjectOf, contextShard } from "../../src/key-client/context-client";
import { admin, call, createKey, createWorkspace, expectProblem, type Json } from "./helpers";

async function role(workspaceId: string, name: string, permissions: string[]) {
  const { status, json } = await admin("POST", "/roles", { workspaceId, name, permissions });
  expect(status, JSON.stringify(json)).toBe(201);
  return json;
}

describe("roles", () => {
  it("creates, replaces, lists and deletes roles, each audited", async () => {
    const ws = await createWorkspace();
    expect(await role(ws, "analyst", ["reports:read"])).toMatchObject({
      workspaceId: ws,
      name: "analyst",
      permissions: ["reports:read"],
    });
    await role(ws, "analyst", ["reports:*"]);
    const listed = await admin("GET", `/roles?workspaceId=${ws}`);
    // The test policy's roles are listed too (test/worker/policy-roles.test.ts).
    const own = listed.json.items.filter((item: Json) => item.source === "workspace");
    expect(own).toMatchObject([{ name: "analyst", permissions: ["reports:*"] }]);
    expect((await admin("DELETE", `/roles/analyst?workspaceId=${ws}`)).status).toBe(204);
    expect((await admin("DELETE", `/roles/analyst?workspaceId=${ws}`)).status).toBe(404);
    const audit = await env.DB.prepare(
      "SELECT action FROM audit_log WHERE workspace_id = ?1 AND action LIKE 'role.%' ORDER BY seq",
    )
      .bind(ws)
      .all();
    expect(audit.results.map((row) => row.action)).toEqual(["role.upsert", "role.upsert", "role.delete"]);
  });

  it("validates role input", async () => {
    const ws = await createWorkspace();
    expect(
      (await admin("POST", "/roles", { workspaceId: ws, name: "bad name", permissions: [] })).status,
    ).toBe(400);
    expect((await admin("POST", "/roles", { workspaceId: ws, name: "r", permissions: ["a b"] })).status).toBe(
      400,
    );
    expect(
      (await admin("POST", "/roles", { workspaceId: "ws_00000000000000000000", name: "r", permissions: [] }))
        .status,
    ).toBe(404);
    expect((await admin("GET", "/roles")).status).toBe(400);
  });

  it("gives a key its roles' permissions, and refuses unknown roles and grants beyond the ceiling", async () => {
    const ws = await createWorkspace();
    await role(ws, "analyst", ["reports:read"]);
    await role(ws, "writer", ["products:write"]);
    const { key } = await createKey(ws, { permissions: ["products:read"], roles: ["analyst"] });
    const echo = (await (await call("/api/reports", { key })).json()) as Json;
    expect(echo.headers["x-portcullis-permissions"]).toBe("products:read reports:read");
    const unknown = await admin("POST", "/keys", { workspaceId: ws, type: "server", roles: ["ghost"] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors[0].field).toBe("roles");
    const beyond = await admin("POST", "/keys", { workspaceId: ws, type: "browser", roles: ["writer"] });
    expect(beyond.status).toBe(400);
    expect(beyond.json.code).toBe("permission_not_allowed");
  });

  it("reaches keys in use before the admin response returns (edit, delete, assign)", async () => {
    const ws = await createWorkspace();
    await role(ws, "analyst", ["reports:read"]);
    const { key, id } = await createKey(ws, { permissions: [], roles: ["analyst"] });
    expect((await call("/api/reports", { key })).status).toBe(200);
    await role(ws, "analyst", ["reports:list"]);
    await expectProblem(await call("/api/reports", { key }), 403, "insufficient_permissions");
    await role(ws, "analyst", ["reports:read"]);
    expect((await call("/api/reports", { key })).status).toBe(200);
    await admin("DELETE", `/roles/analyst?workspaceId=${ws}`);
    await expectProblem(await call("/api/reports", { key }), 403, "insufficient_permissions");
    await role(ws, "auditor", ["reports:*"]);
    expect((await admin("PATCH", `/keys/${id}`, { roles: ["auditor"] })).status).toBe(200);
    expect((await call("/api/reports", { key })).status).toBe(200);
    // Each edit waits for the contexts lent before it (up to `leases.ms`, 1 s): four of them.
  }, 20_000);

  it("a role edit waits for the contexts a restarted context shard lent before it restarted", async () => {
    const ws = await createWorkspace();
    await role(ws, "analyst", ["reports:read"]);
    const { key, id } = await createKey(ws, { permissions: [], roles: ["analyst"] });
    // The key's object takes its context under a lease of `leases.ms` (1 s here).
    expect((await call("/api/reports", { key })).status).toBe(200);
    // The shard restarts: it forgets what it lent, but kept the horizon of its leases.
    await evictDurableObject(contextObjectOf(env, ws, contextShard(id)) as unknown as DurableObjectStub);
    await role(ws, "analyst", []);
    // Leasing off for this request: the key's object decides it, with the context it holds, if any still holds.
    await expectProblem(await call("/api/reports", { key, leases: false }), 403, "insufficient_permissions");
  });
});

describe("plans", () => {
  it("a workspace plan change reaches its keys before the admin response returns", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { permissions: [] });
    await expectProblem(await call("/api/reports", { key }), 403, "insufficient_permissions");
    expect((await admin("PATCH", `/workspaces/${ws}`, { plan: "pro" })).status).toBe(200);
    const echo = (await (await call("/api/reports", { key })).json()) as Json;
    expect(echo.headers["x-portcullis-plan"]).toBe("pro");
    await admin("PATCH", `/workspaces/${ws}`, { plan: null });
    await expectProblem(await call("/api/reports", { key }), 403, "insufficient_permissions");
  });

  it("the key's own plan wins over the workspace's", async () => {
    const ws = await createWorkspace("w", "pro");
    const { key } = await createKey(ws, { permissions: [], plan: "free" });
    await expectProblem(await call("/api/reports", { key }), 403, "insufficient_permissions");
  });
});
