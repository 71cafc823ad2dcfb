/**
 * Guards that a simpler implementation would get wrong without any other test noticing: each
 * test here fails when its guard is removed (they were surviving mutants).
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { workspaceUsage } from "../../src/key-client/usage-rollup-client";
import type { KeyGate } from "../../src/key-object/key-gate";
import { failingDb, restoreObjectDbs, setObjectDb } from "./faults";
import {
  admin,
  BASE,
  call,
  countingDb,
  countingGates,
  createKey,
  createWorkspace,
  direct,
  keyObject,
  UNLEASED,
} from "./helpers";

afterEach(restoreObjectDbs);

function keyed(key: string) {
  return new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } });
}

describe("verify-path guards", () => {
  it("a deleted key is refused from D1's tombstone, without asking its object", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await admin("DELETE", `/keys/${id}`)).status).toBe(204);
    // The key was never verified here, so this isolate looks it up in D1 and finds the tombstone.
    const gates = countingGates(env.KEY_GATE);
    const response = await direct(keyed(key), { KEY_GATE: gates.namespace });
    expect(response.status).toBe(401);
    expect(response.headers.get("x-portcullis-code")).toBe("key_revoked");
    expect(gates.gets()).toBe(0);
  });

  it("a key whose object and D1 disagree is denied, and looked up in D1 again next time", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await call("/api/products", { key, leases: false })).status).toBe(200);
    // D1 loses the key (as a restore from an older backup would) while the isolate knows it.
    await runInDurableObject(keyObject(id), async (_instance: KeyGate, state) => {
      await state.storage.deleteAll();
    });
    await env.DB.prepare("UPDATE keys SET deleted_at = 1 WHERE id = ?1").bind(id).run();
    await evictDurableObject(keyObject(id));
    const first = await direct(keyed(key), UNLEASED);
    expect(first.status).toBe(503);
    const db = countingDb(env.DB);
    await direct(keyed(key), { ...UNLEASED, DB: db.db });
    expect(db.statements.filter((sql) => sql.includes("FROM keys WHERE hash"))).toHaveLength(1);
  });
});

describe("rotation guard", () => {
  it("takes the new key back when the old one cannot be retired", async () => {
    const ws = await createWorkspace();
    const old = await createKey(ws);
    await setObjectDb(keyObject(old.id), failingDb());
    const rotate = await admin("POST", `/keys/${old.id}/rotate`, {});
    expect(rotate.status).toBe(503);
    restoreObjectDbs();
    const { results } = await env.DB.prepare(
      "SELECT id FROM keys WHERE workspace_id = ?1 AND deleted_at IS NULL",
    )
      .bind(ws)
      .all<{ id: string }>();
    expect(results.map((row) => row.id)).toEqual([old.id]);
    expect((await call("/api/products", { key: old.key })).status).toBe(200);
  });
});

describe("write-behind guard", () => {
  it("requests counted while usage is being written are written by the next flush", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const stub = keyObject(id);
    for (let i = 0; i < 2; i++)
      expect((await call("/api/products", { key, leases: false })).status).toBe(200);
    let real: KeyGate["rollups"] | null = null;
    await runInDurableObject(stub, async (instance: KeyGate) => {
      const own = instance.rollups;
      real = own;
      let counted = false;
      instance.rollups = (workspaceId, keyId) => {
        const rollup = own(workspaceId, keyId);
        return {
          members: (keyIds) => rollup.members(keyIds),
          totals: (kind, from, to) => rollup.totals(kind, from, to),
          // The flush writes usage by feeding the key's shard: a request decided while it does.
          feed: async (feed) => {
            await rollup.feed(feed);
            if (counted) return;
            counted = true;
            await instance.authorize(
              {
                permissions: [],
                anyPermissions: [],
                keyTypes: null,
                ip: null,
                workspaceId: null,
                cost: 1,
                consume: true,
              },
              { plans: {} },
            );
          },
        };
      };
    });
    await runDurableObjectAlarm(stub);
    await runInDurableObject(stub, (instance: KeyGate) => {
      if (real) instance.rollups = real;
    });
    await runDurableObjectAlarm(stub);
    const usage = await admin("GET", `/keys/${id}/usage`);
    expect(usage.json.items.at(-1).allowed).toBe(3);
    const today = new Date().toISOString().slice(0, 10);
    const shards = await workspaceUsage(env, ws, "day", today, today);
    expect(shards[today]?.valid).toBe(3);
  });
});
