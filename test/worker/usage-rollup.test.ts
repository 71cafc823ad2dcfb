/**
 * Usage off D1's hot path (docs/consistency.md#usage): each key's object keeps its usage, its
 * workspace's shards sum it, last use reaches D1 in one statement per shard an hour, usage an
 * earlier revision kept in D1 moves over once, and D1's load does not grow with traffic.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/key-object/key-gate";
import {
  ROLLUP_SHARDS,
  rollupShard,
  type UsageFeed,
  type UsageRollup,
  workspaceUsage,
} from "../../src/key-object/usage-rollup";
import { moveLegacyUsage } from "../../src/services/usage-upgrade";
import { admin, BASE, countingDb, createKey, createWorkspace, direct, keyObject, UNLEASED } from "./helpers";

const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const thisHour = () => `${new Date().toISOString().slice(0, 13)}:00:00Z`;

function shardOf(workspaceId: string, keyId: string) {
  return env.USAGE_ROLLUP.get(env.USAGE_ROLLUP.idFromName(`${workspaceId}/${rollupShard(keyId)}`));
}

function request(key: string, db?: D1Database, method = "GET"): Promise<Response> {
  return direct(
    new Request(`${BASE}/api/products`, { method, headers: { Authorization: `Bearer ${key}` } }),
    db ? { ...UNLEASED, DB: db } : UNLEASED,
  );
}

async function dayUsage(path: string) {
  const { status, json } = await admin("GET", `${path}/usage?from=${today()}&to=${today()}`);
  expect(status).toBe(200);
  return json.items[0];
}

describe("usage kept by the key's object", () => {
  it("answers a key's usage exactly before any alarm, and writes no usage to D1", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { permissions: ["products:read"] });
    for (let i = 0; i < 3; i++) expect((await request(key)).status).toBe(200);
    expect((await request(key, undefined, "POST")).status).toBe(403);
    expect(await dayUsage(`/keys/${id}`)).toEqual({
      day: today(),
      allowed: 3,
      denied: { insufficient_permissions: 1 },
    });
    await runDurableObjectAlarm(keyObject(id));
    expect(await dayUsage(`/keys/${id}`)).toMatchObject({ allowed: 3 });
    const rows = await env.DB.batch([
      env.DB.prepare("SELECT COUNT(*) AS n FROM key_usage WHERE key_id = ?1").bind(id),
      env.DB.prepare("SELECT COUNT(*) AS n FROM key_usage_hourly WHERE key_id = ?1").bind(id),
    ]);
    expect(rows.map((r) => (r.results[0] as { n: number }).n)).toEqual([0, 0]);
  });

  it("sums a workspace's keys from its shards, and last use reaches D1 from the shard's hourly write", async () => {
    const ws = await createWorkspace();
    const keys = [await createKey(ws), await createKey(ws), await createKey(ws)];
    for (const [n, { key, id }] of keys.entries()) {
      for (let i = 0; i <= n; i++) expect((await request(key)).status).toBe(200);
      await runDurableObjectAlarm(keyObject(id));
    }
    expect(await dayUsage(`/workspaces/${ws}`)).toEqual({ day: today(), allowed: 6, denied: {} });
    const hourly = await workspaceUsage(env, ws, "hour", thisHour(), thisHour());
    expect(hourly[thisHour()]).toEqual({ valid: 6 });
    const { id } = keys[2] as { id: string };
    const live = (await admin("GET", `/keys/${id}`)).json.lastUsedAt;
    expect(live).toEqual(expect.any(String));
    const before = await env.DB.prepare("SELECT last_used_at FROM keys WHERE id = ?1").bind(id).first();
    expect(before?.last_used_at).toBeNull();
    expect(await runDurableObjectAlarm(shardOf(ws, id))).toBe(true);
    const after = await env.DB.prepare("SELECT last_used_at FROM keys WHERE id = ?1")
      .bind(id)
      .first<{ last_used_at: number }>();
    expect(new Date(after?.last_used_at ?? 0).toISOString()).toBe(live);
  });

  it("lists a key's last use and balance as of its object's last flush, though D1 has them hourly", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { credits: { remaining: 10 } });
    for (let i = 0; i < 3; i++) expect((await request(key)).status).toBe(200);
    await runDurableObjectAlarm(keyObject(id));
    const stored = await env.DB.prepare("SELECT last_used_at FROM keys WHERE id = ?1").bind(id).first();
    expect(stored?.last_used_at).toBeNull();
    const live = (await admin("GET", `/keys/${id}`)).json;
    const listed = async () =>
      (
        (await admin("GET", `/keys?workspaceId=${ws}`)).json.items as {
          id: string;
          lastUsedAt: string | null;
          credits: { remaining: number } | null;
        }[]
      ).find((item) => item.id === id);
    expect(await listed()).toMatchObject({ lastUsedAt: live.lastUsedAt, credits: { remaining: 7 } });
    // A balance an admin set after the shard saw the key is the one listed.
    expect((await admin("POST", `/keys/${id}/credits`, { op: "set", amount: 50 })).status).toBe(200);
    expect((await listed())?.credits).toMatchObject({ remaining: 50 });
  });

  it("a feed retried (absolute totals) counts nothing twice", async () => {
    const ws = await createWorkspace();
    const keyId = `key_retry${crypto.randomUUID().replaceAll("-", "").slice(0, 11)}`;
    const shard = shardOf(ws, keyId) as unknown as UsageRollup;
    const feed = (valid: number): UsageFeed => ({
      keyId,
      days: { [today()]: { valid } },
      hours: { [thisHour()]: { valid } },
      lastUsedAt: Date.now(),
      credits: null,
      at: Date.now(),
      imported: false,
    });
    await shard.feed(feed(5));
    await shard.feed(feed(5));
    expect(await shard.totals("day", today(), today())).toEqual({ [today()]: { valid: 5 } });
    await shard.feed(feed(7));
    await shard.feed(feed(7));
    expect(await shard.totals("day", today(), today())).toEqual({ [today()]: { valid: 7 } });
    expect(await shard.totals("hour", thisHour(), thisHour())).toEqual({ [thisHour()]: { valid: 7 } });
  });

  it("prunes hours after 7 days and days after retention.dailyUsageDays, in the object's alarm", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await request(key)).status).toBe(200);
    const gate = keyObject(id);
    await runDurableObjectAlarm(gate);
    const start = Date.now();
    const kept = async (at: number) =>
      runInDurableObject(gate, async (instance: KeyGate, state) => {
        instance.now = () => at;
        await instance.alarm();
        return state.storage.sql
          .exec<{ kind: string; n: number }>(
            "SELECT kind, COUNT(*) AS n FROM usage GROUP BY kind ORDER BY kind",
          )
          .toArray()
          .map((row) => `${row.kind}:${row.n}`);
      });
    expect(await kept(start + 6 * DAY_MS)).toEqual(["day:1", "hour:1"]);
    expect(await kept(start + 8 * DAY_MS)).toEqual(["day:1"]);
    expect(await kept(start + 398 * DAY_MS)).toEqual(["day:1"]);
    expect(await kept(start + 401 * DAY_MS)).toEqual([]);
  });
});

describe("upgrade from usage kept in D1", () => {
  async function legacyRows(keyId: string, days: Record<string, number>, hours: Record<string, number>) {
    await env.DB.batch([
      ...Object.entries(days).map(([day, count]) =>
        env.DB.prepare("INSERT INTO key_usage (key_id, day, code, count) VALUES (?1, ?2, 'valid', ?3)").bind(
          keyId,
          day,
          count,
        ),
      ),
      ...Object.entries(hours).map(([hour, count]) =>
        env.DB.prepare(
          "INSERT INTO key_usage_hourly (key_id, hour, code, count) VALUES (?1, ?2, 'valid', ?3)",
        ).bind(keyId, hour, count),
      ),
    ]);
  }

  /** A key of the earlier revision: its object holds no mark of a key created with nothing in D1. */
  async function createdBefore(workspaceId: string) {
    const made = await createKey(workspaceId);
    await runInDurableObject(keyObject(made.id), (_instance: KeyGate, state) =>
      state.storage.delete("usageImport"),
    );
    await evictDurableObject(keyObject(made.id));
    return made;
  }

  it("a key created by this revision reads no usage from D1: its flush feeds its shard alone", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    for (let i = 0; i < 2; i++) expect((await request(key)).status).toBe(200);
    const counted = countingDb(env.DB);
    await runInDurableObject(keyObject(id), (instance: KeyGate) => {
      instance.db = counted.db;
    });
    await runDurableObjectAlarm(keyObject(id));
    expect(counted.statements.filter((sql) => sql.includes("key_usage"))).toEqual([]);
    expect(
      (await admin("GET", `/workspaces/${ws}/usage?from=${today()}&to=${today()}`)).json.items,
    ).toMatchObject([{ allowed: 2 }]);
  });

  it("a key's D1 rows count once in its usage and its workspace's, whatever imports them and how often", async () => {
    const ws = await createWorkspace();
    const active = await createdBefore(ws);
    const idle = await createdBefore(ws);
    const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    const longAgo = new Date(Date.now() - 100 * DAY_MS).toISOString().slice(0, 10);
    // As the earlier revision left them: today's total of the active key is also in its object.
    for (let i = 0; i < 2; i++) expect((await request(active.key)).status).toBe(200);
    await legacyRows(active.id, { [longAgo]: 4, [yesterday]: 3, [today()]: 2 }, { [thisHour()]: 2 });
    await legacyRows(idle.id, { [yesterday]: 10 }, {});
    const range = `?from=${longAgo}&to=${today()}`;
    const sum = (items: { allowed: number }[]) => items.reduce((total, item) => total + item.allowed, 0);
    // The first usage query imports the key's rows.
    const own = await admin("GET", `/keys/${active.id}/usage${range}`);
    expect(sum(own.json.items)).toBe(9);
    // Alarms, a second import and the scheduled step: nothing counts twice.
    await runDurableObjectAlarm(keyObject(active.id));
    await runInDurableObject(keyObject(active.id), (instance: KeyGate) => instance.importUsage(active.id));
    expect(await moveLegacyUsage(env)).toBeGreaterThanOrEqual(1);
    expect(await moveLegacyUsage(env)).toBe(0);
    await runInDurableObject(keyObject(idle.id), (instance: KeyGate) => instance.importUsage(idle.id));
    expect(sum((await admin("GET", `/keys/${active.id}/usage${range}`)).json.items)).toBe(9);
    expect(sum((await admin("GET", `/keys/${idle.id}/usage${range}`)).json.items)).toBe(10);
    const workspace = (await admin("GET", `/workspaces/${ws}/usage${range}`)).json.items;
    expect(sum(workspace)).toBe(19);
    expect(workspace.find((item: { day: string }) => item.day === yesterday).allowed).toBe(13);
    const hourly = await admin("GET", `/keys/${active.id}/usage?granularity=hour`);
    expect(hourly.json.items.at(-1)).toMatchObject({ allowed: 2 });
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM key_usage WHERE key_id IN (?1, ?2)")
      .bind(active.id, idle.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("D1 load does not grow with traffic", () => {
  it("10x the requests over the same keys cost the same D1 queries: one statement per shard an hour", async () => {
    const ws = await createWorkspace();
    const keys: { key: string; id: string }[] = [];
    for (let i = 0; i < 4; i++) keys.push(await createKey(ws));
    const shards = Array.from({ length: ROLLUP_SHARDS }, (_, shard) =>
      env.USAGE_ROLLUP.get(env.USAGE_ROLLUP.idFromName(`${ws}/${shard}`)),
    );
    let requests = 0;
    /** D1 statements of `perKey` requests on each key over three flush cycles, then the shards' hourly write. */
    async function phase(perKey: number) {
      const counted = countingDb(env.DB);
      for (const { id } of keys) {
        await runInDurableObject(keyObject(id), (instance: KeyGate) => {
          instance.db = counted.db;
        });
      }
      for (const shard of shards) {
        await runInDurableObject(shard, (instance: UsageRollup) => {
          instance.db = counted.db;
        });
      }
      const perCycle: number[] = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        const before = counted.statements.length;
        for (const { key } of keys) {
          for (let i = 0; i < perKey; i++) {
            const response = await request(key, counted.db);
            await response.body?.cancel();
            requests += 1;
          }
        }
        for (const { id } of keys) await runDurableObjectAlarm(keyObject(id));
        perCycle.push(counted.statements.length - before);
      }
      for (const shard of shards) await runDurableObjectAlarm(shard);
      return { perCycle, total: counted.statements, requests: perKey * keys.length * 3 };
    }
    // The first use of each key: its lookup by hash and its one-time import of D1 usage.
    await phase(1);
    const few = await phase(2);
    const many = await phase(20);
    const touched = new Set(keys.map(({ id }) => rollupShard(id))).size;
    const shape = ({ perCycle, total, requests }: typeof few) => ({
      requests,
      perCycle,
      perHour: total.length,
    });
    console.log(
      JSON.stringify({
        event: "d1_queries",
        keys: keys.length,
        shards: touched,
        few: shape(few),
        many: shape(many),
      }),
    );
    expect(many.requests).toBe(10 * few.requests);
    expect(few.perCycle).toEqual([0, 0, 0]);
    expect(many.perCycle).toEqual([0, 0, 0]);
    expect(many.total).toEqual(few.total);
    expect(many.total).toHaveLength(touched);
    expect((await workspaceUsage(env, ws, "day", today(), today()))[today()]?.valid).toBe(requests);
  }, 60_000);
});
