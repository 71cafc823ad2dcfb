import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, createWorkspace } from "./helpers";

describe("admin: workspaces", () => {
  it("creates a workspace and records it in the audit log", async () => {
    const { status, json } = await admin("POST", "/workspaces", { name: "acme", plan: "pro" });
    expect(status).toBe(201);
    expect(json).toMatchObject({
      id: expect.stringMatching(/^ws_[A-Za-z0-9]{20}$/),
      name: "acme",
      plan: "pro",
    });
    expect(new Date(json.createdAt).toISOString()).toBe(json.createdAt);
    const audit = await env.DB.prepare("SELECT * FROM audit_log WHERE target_id = ?1").bind(json.id).all();
    expect(audit.results).toMatchObject([
      { action: "workspace.create", actor_type: "root", workspace_id: json.id },
    ]);
  });

  it("keeps the provider's externalId: null by default, set, found, changed and cleared", async () => {
    const plain = await admin("POST", "/workspaces", { name: "plain" });
    expect(plain.json).toMatchObject({ externalId: null });
    const externalId = `org_${crypto.randomUUID()}`;
    const created = await admin("POST", "/workspaces", { name: "acme", plan: "pro", externalId });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual(
      ["createdAt", "externalId", "id", "name", "plan", "updatedAt"].sort(),
    );
    expect(created.json.externalId).toBe(externalId);
    expect((await admin("GET", `/workspaces/${created.json.id}`)).json.externalId).toBe(externalId);
    const found = await admin("GET", `/workspaces?externalId=${externalId}`);
    expect(found.json).toEqual({ items: [created.json], cursor: null });

    const moved = `auth0|${crypto.randomUUID()}`;
    const patched = await admin("PATCH", `/workspaces/${created.json.id}`, { externalId: moved });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ externalId: moved, name: "acme", plan: "pro" });
    expect((await admin("GET", `/workspaces?externalId=${externalId}`)).json.items).toEqual([]);
    expect((await admin("GET", `/workspaces?externalId=${encodeURIComponent(moved)}`)).json.items[0].id).toBe(
      created.json.id,
    );
    // Its old id is free again.
    expect((await admin("POST", "/workspaces", { name: "next", externalId })).status).toBe(201);

    const cleared = await admin("PATCH", `/workspaces/${created.json.id}`, { externalId: null });
    expect(cleared.json.externalId).toBeNull();
    const audit = await env.DB.prepare(
      "SELECT after FROM audit_log WHERE target_id = ?1 AND action = 'workspace.update' ORDER BY seq",
    )
      .bind(created.json.id)
      .all<{ after: string }>();
    expect(audit.results.map((row) => JSON.parse(row.after).externalId)).toEqual([moved, null]);
  });

  it("reads, lists, renames and re-plans a workspace", async () => {
    const id = await createWorkspace("before");
    expect((await admin("GET", `/workspaces/${id}`)).json).toMatchObject({ id, name: "before", plan: null });
    const patched = await admin("PATCH", `/workspaces/${id}`, { name: "after", plan: "free" });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id, name: "after", plan: "free" });
    expect((await admin("GET", `/workspaces/${id}`)).json).toMatchObject({ name: "after", plan: "free" });
    // Other tests share the database: page through every workspace to find this one.
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await admin("GET", `/workspaces?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      ids.push(...page.json.items.map((w: { id: string }) => w.id));
      cursor = page.json.cursor;
    } while (cursor);
    expect(ids).toContain(id);
  });

  it("pages through workspaces with a cursor", async () => {
    await createWorkspace("p1");
    await createWorkspace("p2");
    await createWorkspace("p3");
    const first = await admin("GET", "/workspaces?limit=2");
    expect(first.json.items).toHaveLength(2);
    expect(first.json.cursor).toEqual(expect.any(String));
    const second = await admin("GET", `/workspaces?limit=2&cursor=${first.json.cursor}`);
    expect(second.status).toBe(200);
    const firstIds = first.json.items.map((w: { id: string }) => w.id);
    for (const w of second.json.items) expect(firstIds).not.toContain(w.id);
  });

  it("answers 404 for an unknown workspace and 400 for an unknown plan", async () => {
    const missing = await admin("GET", "/workspaces/ws_00000000000000000000");
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe("not_found");
    const badPlan = await admin("POST", "/workspaces", { name: "x", plan: "platinum" });
    expect(badPlan.status).toBe(400);
    expect(badPlan.json.errors).toEqual([expect.objectContaining({ field: "plan" })]);
  });

  it("rejects bad bodies with 400 and changes nothing", async () => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM workspaces").first<{ n: number }>();
    for (const body of [
      "{not json",
      "",
      JSON.stringify({ name: 42 }),
      JSON.stringify({}),
      JSON.stringify({ name: "x", extra: 1 }),
    ]) {
      const { status, json } = await admin("POST", "/workspaces", body);
      expect(status, body).toBe(400);
      expect(json.code).toBe("bad_request");
      expect(json.errors?.length, body).toBeGreaterThan(0);
    }
    const id = await createWorkspace("keep");
    const patch = await admin("PATCH", `/workspaces/${id}`, {});
    expect(patch.status).toBe(400);
    expect((await admin("GET", `/workspaces/${id}`)).json.name).toBe("keep");
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM workspaces").first<{ n: number }>();
    expect(after?.n).toBe((before?.n ?? 0) + 1);
  });
});
