/**
 * Attack class: tenant isolation. An admin key belongs to one workspace and sees and changes
 * nothing outside it: another workspace's keys answer 404 on every admin route, and its verify
 * calls see them as `invalid_key` with no ids, counting nothing in their workspace.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, call, createKey, createWorkspace, keyObject } from "../worker/helpers";

const VERIFY = "https://api.example.test/_portcullis/v1/verify";

async function verify(key: string, token: string) {
  const { exports } = await import("cloudflare:workers");
  const response = await exports.default.fetch(
    new Request(VERIFY, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ key }),
    }),
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Rows of daily usage the key's object keeps (docs/consistency.md#usage). */
async function usageRows(id: string) {
  return runInDurableObject(
    keyObject(id),
    (_instance, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM usage WHERE kind = 'day'").one().n,
  );
}

async function tenants() {
  const mine = await createWorkspace("mine");
  const theirs = await createWorkspace("theirs");
  const operator = await createKey(mine, { type: "admin", permissions: ["*"] });
  const victim = await createKey(theirs, { limits: { minute: 3 } });
  return { mine, theirs, operator, victim };
}

describe("another workspace's keys do not exist for an admin key", () => {
  it("answers 404 on every key route and changes nothing", async () => {
    const { operator, victim } = await tenants();
    const calls: [string, string, unknown?][] = [
      ["GET", `/keys/${victim.id}`],
      ["GET", `/keys/${victim.id}/usage`],
      ["PATCH", `/keys/${victim.id}`, { enabled: false }],
      ["POST", `/keys/${victim.id}/credits`, { op: "set", amount: 0 }],
      ["POST", `/keys/${victim.id}/rotate`, {}],
      ["POST", `/keys/${victim.id}/revoke`],
      ["DELETE", `/keys/${victim.id}`],
    ];
    for (const [method, path, body] of calls) {
      const answer = await admin(method, path, body, operator.key);
      expect([answer.status, answer.json.code], `${method} ${path}`).toEqual([404, "not_found"]);
      expect(answer.text).not.toContain(victim.record.workspaceId);
    }
    expect(await admin("GET", `/keys/${victim.id}`)).toMatchObject({
      status: 200,
      json: { enabled: true, revokedAt: null, expiresAt: null },
    });
    expect((await call("/api/products", { key: victim.key })).status).toBe(200);
  });

  it("answers 404 for the other workspace itself, its roles, audit log and key list", async () => {
    const { theirs, operator } = await tenants();
    for (const path of [
      `/workspaces/${theirs}`,
      `/roles?workspaceId=${theirs}`,
      `/audit?workspaceId=${theirs}`,
      `/keys?workspaceId=${theirs}`,
    ]) {
      const answer = await admin("GET", path, undefined, operator.key);
      expect([answer.status, answer.json.code], path).toEqual([404, "not_found"]);
    }
    const created = await admin("POST", "/keys", { workspaceId: theirs, type: "server" }, operator.key);
    expect([created.status, created.json.code]).toEqual([404, "not_found"]);
  });
});

describe("verify across workspaces", () => {
  it("another workspace's live, revoked or deleted key is invalid_key with no ids", async () => {
    const { theirs, operator } = await tenants();
    const live = await createKey(theirs);
    const revoked = await createKey(theirs);
    const deleted = await createKey(theirs);
    expect((await admin("POST", `/keys/${revoked.id}/revoke`)).status).toBe(200);
    expect((await admin("DELETE", `/keys/${deleted.id}`)).status).toBe(204);
    for (const key of [live, revoked, deleted]) {
      const answer = await verify(key.key, operator.key);
      expect(answer, key.id).toEqual({ status: 200, json: { valid: false, code: "invalid_key" } });
    }
  });

  it("counts nothing for the other workspace: no limit, credit or usage", async () => {
    const { theirs, operator } = await tenants();
    const victim = await createKey(theirs, { limits: { minute: 2 }, credits: { remaining: 2 } });
    // Warm this isolate's cache of the key, so that the object path is taken too.
    expect((await call("/api/free", { key: victim.key })).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      expect((await verify(victim.key, operator.key)).json).toEqual({ valid: false, code: "invalid_key" });
    }
    const detail = await admin("GET", `/keys/${victim.id}`);
    expect(detail.json.credits.remaining).toBe(2);
    expect(detail.json.counters.limits[0]).toMatchObject({ window: "minute", remaining: 1 });
    await runDurableObjectAlarm(keyObject(victim.id));
    const usage = await admin("GET", `/keys/${victim.id}/usage`);
    const today = usage.json.items.at(-1);
    expect(today).toMatchObject({ allowed: 1, denied: {} });
    expect(await usageRows(victim.id)).toBe(1);
  });
});
