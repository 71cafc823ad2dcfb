/**
 * Usage kept by the key's Durable Object: per-day counts move into its own tables by its alarm,
 * lastUsedAt reaches D1 through its workspace's usage shard, and an evicted or restarted object
 * loses no count.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FLUSH_DELAY_MS } from "../../src/key-object/usage";
import { rollupShard } from "../../src/key-object/usage-rollup";
import { admin, call, createKey, createWorkspace, keyObjectFor } from "./helpers";

async function gateOf(key: string) {
  return await keyObjectFor(key);
}

describe("usage kept by the key's object", () => {
  it("keeps per-day counts in the object, and lastUsedAt reaches D1 through the usage shard", async () => {
    expect(FLUSH_DELAY_MS).toBeLessThanOrEqual(60_000);
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: ["products:read"], limits: { minute: 3 } });
    for (let i = 0; i < 4; i++) await call("/api/products", { key });
    await call("/api/products", { key, method: "POST" });
    const live = await admin("GET", `/keys/${id}`);
    expect(live.json.lastUsedAt).toEqual(expect.any(String));
    const gate = await gateOf(key);
    expect(await runDurableObjectAlarm(gate)).toBe(true);
    const shard = env.USAGE_ROLLUP.get(env.USAGE_ROLLUP.idFromName(`${ws}/${rollupShard(id)}`));
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    const row = await env.DB.prepare("SELECT last_used_at FROM keys WHERE id = ?1")
      .bind(id)
      .first<{ last_used_at: number }>();
    expect(new Date(row?.last_used_at ?? 0).toISOString()).toBe(live.json.lastUsedAt);
    const counts = await runInDurableObject(gate, (_instance, state) =>
      state.storage.sql.exec("SELECT code, count FROM usage WHERE kind = 'day' ORDER BY code").toArray(),
    );
    expect(counts).toEqual([
      { code: "insufficient_permissions", count: 1 },
      { code: "rate_limited", count: 1 },
      { code: "valid", count: 3 },
    ]);
    const usage = await admin("GET", `/keys/${id}/usage`);
    expect(usage.json.items).toHaveLength(30);
    expect(usage.json.items.at(-1)).toEqual({
      day: new Date().toISOString().slice(0, 10),
      allowed: 3,
      denied: { insufficient_permissions: 1, rate_limited: 1 },
    });
    expect(usage.json.items[0]).toEqual({
      day: new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10),
      allowed: 0,
      denied: {},
    });
  });

  it("loses no count when the object is evicted, and never counts twice", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { limits: { day: 5 } });
    for (let i = 0; i < 3; i++) expect((await call("/api/products", { key })).status).toBe(200);
    const gate = await gateOf(key);
    await evictDurableObject(gate);
    expect((await call("/api/products", { key })).status).toBe(200);
    expect((await call("/api/products", { key })).status).toBe(200);
    expect((await call("/api/products", { key })).status).toBe(429);
    await runDurableObjectAlarm(gate);
    await evictDurableObject(gate);
    // A second write of the same day (as after a retried alarm) keeps the same totals.
    await call("/api/products", { key });
    await runDurableObjectAlarm(gate);
    const usage = await admin("GET", `/keys/${id}/usage`);
    expect(usage.json.items.at(-1)).toEqual({
      day: new Date().toISOString().slice(0, 10),
      allowed: 5,
      denied: { quota_exceeded: 2 },
    });
    const hourly = await admin("GET", `/keys/${id}/usage?granularity=hour`);
    expect(hourly.json.items).toHaveLength(24);
    expect(hourly.json.items.at(-1)).toEqual({
      hour: `${new Date().toISOString().slice(0, 13)}:00:00Z`,
      allowed: 5,
      denied: { quota_exceeded: 2 },
    });
  });

  it("answers usage for a range of days and validates it", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const january = await admin("GET", `/keys/${id}/usage?from=2020-01-01&to=2020-01-31`);
    expect(january.json.items).toHaveLength(31);
    expect(january.json.items[30]).toEqual({ day: "2020-01-31", allowed: 0, denied: {} });
    for (const query of [
      "from=yesterday",
      "granularity=week",
      "from=2020-02-01&to=2020-01-01",
      "from=2019-01-01&to=2020-06-01",
    ]) {
      const refused = await admin("GET", `/keys/${id}/usage?${query}`);
      expect([refused.status, refused.json.code], query).toEqual([400, "bad_request"]);
    }
    const hours = await admin(
      "GET",
      `/keys/${id}/usage?granularity=hour&from=2020-01-01T22:00:00Z&to=2020-01-02T01:59:59Z`,
    );
    expect(hours.json.items.map((item: { hour: string }) => item.hour)).toEqual([
      "2020-01-01T22:00:00Z",
      "2020-01-01T23:00:00Z",
      "2020-01-02T00:00:00Z",
      "2020-01-02T01:00:00Z",
    ]);
    expect((await admin("GET", "/keys/key_00000000000000000000/usage")).status).toBe(404);
  });

  it("keeps a key's Durable Object storage small", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, {
      limits: { second: 5, minute: 50, hour: 500, day: 5000, month: 50000 },
      credits: { remaining: 100 },
    });
    for (let i = 0; i < 3; i++) await call("/api/products", { key });
    const sizes = await runInDurableObject(await gateOf(key), async (_instance, state) => {
      const values = await state.storage.list();
      const valueBytes = [...values.values()].reduce<number>(
        (sum, value) => sum + JSON.stringify(value).length,
        0,
      );
      return { valueBytes, databaseBytes: state.storage.sql.databaseSize };
    });
    console.log(JSON.stringify({ event: "key_storage", ...sizes }));
    expect(sizes.valueBytes).toBeLessThan(2048);
  });
});

describe("workspace usage", () => {
  it("sums the workspace's keys by day and by hour, and only its own", async () => {
    const ws = await createWorkspace();
    const other = await createWorkspace();
    const keys = [await createKey(ws), await createKey(ws), await createKey(other)];
    for (const { key } of keys) {
      for (let i = 0; i < 2; i++) {
        expect((await call("/api/products", { key, leases: false })).status).toBe(200);
      }
      await runDurableObjectAlarm(await gateOf(key));
    }
    const daily = await admin("GET", `/workspaces/${ws}/usage`);
    expect(daily.json.items).toHaveLength(30);
    expect(daily.json.items.at(-1)).toEqual({
      day: new Date().toISOString().slice(0, 10),
      allowed: 4,
      denied: {},
    });
    const hourly = await admin("GET", `/workspaces/${ws}/usage?granularity=hour`);
    expect(hourly.json.items.at(-1)).toMatchObject({ allowed: 4 });
    const operator = await createKey(other, { type: "admin", permissions: ["keys:read"] });
    expect((await admin("GET", `/workspaces/${ws}/usage`, undefined, operator.key)).status).toBe(404);
  });
});
