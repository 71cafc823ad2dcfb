/**
 * The cold path's lookup with D1 read replication (docs/consistency.md#the-cold-path): the
 * location's cache first, then a replica (a `first-unconstrained` session), and the primary (the
 * plain binding) only for a key the replica does not show. The D1 binding here is the real local
 * database behind a fake that records where each query ran and can make its replica lag (show no
 * key at all) or fail.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import { verifyDeps } from "../../src/services/deps";
import { KeyLocator } from "../../src/services/known-keys";
import { verifyKey } from "../../src/services/verify-key";
import { KeyLookupCache, keyLookupCache } from "../../src/storage/key-lookup-cache";
import type { KeyLocation } from "../../src/storage/keys";
import { D1_DOWN } from "./faults";
import { admin, createKey, createWorkspace } from "./helpers";
import { compiled, newIsolate, productsCheck } from "./verify-fixture";

const CHECK = productsCheck("203.0.113.9");
const QUERIES = new Set(["first", "all", "run", "raw"]);

type Replica = "current" | "behind" | "failing";

/**
 * A D1 binding with read replication over the local database: the plain binding is the
 * primary; `withSession` opens a session on a replica that is `current` (shows every key),
 * `behind` (shows none: every key was created after its last catch-up) or `failing`.
 */
function replicatedDb(replica: Replica) {
  const reads: ("replica" | "primary")[] = [];
  const constraints: string[] = [];
  const recorded = (real: D1PreparedStatement, where: "replica" | "primary"): D1PreparedStatement =>
    new Proxy(real, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => recorded(target.bind(...values), where);
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        const method = value.bind(target) as (...args: unknown[]) => Promise<unknown>;
        if (!QUERIES.has(String(property))) return method;
        return async (...args: unknown[]) => {
          reads.push(where);
          if (where === "replica" && replica === "failing") throw new Error(D1_DOWN);
          if (where === "replica" && replica === "behind" && property === "first") return null;
          return method(...args);
        };
      },
    });
  const db = {
    prepare: (sql: string) => recorded(env.DB.prepare(sql), "primary"),
    batch: (list: D1PreparedStatement[]) => env.DB.batch(list),
    exec: (sql: string) => env.DB.exec(sql),
    withSession: (constraint?: string) => {
      constraints.push(String(constraint));
      return {
        prepare: (sql: string) => recorded(env.DB.prepare(sql), "replica"),
        batch: (list: D1PreparedStatement[]) => env.DB.batch(list),
        getBookmark: () => null,
      };
    },
  } as unknown as D1Database;
  return { db, reads, constraints };
}

/** Verifies `key` in an isolate that never saw it, with `replica`; waits for the work after the answer. */
async function verifyWith(replica: Replica, key: string) {
  const fake = replicatedDb(replica);
  const ctx = createExecutionContext();
  const deps = verifyDeps({ ...env, DB: fake.db }, ctx, newIsolate());
  try {
    const { code } = await verifyKey(deps, compiled, key, CHECK);
    return { code, reads: fake.reads, constraints: fake.constraints };
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

describe("the lookup with read replicas", () => {
  it("reads a key its replica shows at the replica only, in a first-unconstrained session", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect(await verifyWith("current", key)).toEqual({
      code: "valid",
      reads: ["replica"],
      constraints: ["first-unconstrained"],
    });
  });

  it("looks a key its replica does not show up again at the primary: a key created a moment ago works at once", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect(await verifyWith("behind", key)).toMatchObject({ code: "valid", reads: ["replica", "primary"] });
    // Found at the primary, so cached: the next isolate of the location reads no D1.
    expect(await verifyWith("behind", key)).toMatchObject({ code: "valid", reads: [] });
  });

  it("costs an unknown key exactly one replica read and one primary read, and caches no miss", async () => {
    const key = `lg_replica-${crypto.randomUUID()}`;
    expect(await verifyWith("current", key)).toMatchObject({
      code: "invalid_key",
      reads: ["replica", "primary"],
    });
    expect(await keyLookupCache().get(await sha256Hex(key))).toBeNull();
    expect(await verifyWith("current", key)).toMatchObject({
      code: "invalid_key",
      reads: ["replica", "primary"],
    });
  });

  it("lets a key imported after a miss work at once though the replica has not caught up", async () => {
    const ws = await createWorkspace();
    const key = `lg_replica-${crypto.randomUUID()}`;
    expect(await verifyWith("behind", key)).toMatchObject({ code: "invalid_key" });
    const imported = await admin("POST", "/keys/import", {
      workspaceId: ws,
      type: "legacy",
      key,
      permissions: ["products:read"],
    });
    expect(imported.status).toBe(201);
    expect(await verifyWith("behind", key)).toMatchObject({ code: "valid", reads: ["replica", "primary"] });
  });

  it("fails closed when the replica fails: 503, no read at the primary", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    await expect(verifyWith("failing", key)).rejects.toMatchObject({ code: "unavailable" });
  });

  it("asks the location's cache, then the replica, then the primary only on a miss", async () => {
    const order: string[] = [];
    const found: KeyLocation = { id: "key_order", type: "server", workspaceId: "ws_order", tombstone: null };
    const cache = new (class extends KeyLookupCache {
      override async get(hash: string) {
        order.push("cache");
        return super.get(hash);
      }
    })(() => caches.open("portcullis-lookup-order-test"));
    const at =
      (where: string, answer: KeyLocation | null) =>
      async (_hash: string): Promise<KeyLocation | null> => {
        order.push(where);
        return answer;
      };
    const background: Promise<unknown>[] = [];
    const shown = new KeyLocator(
      { replica: at("replica", found), primary: at("primary", found) },
      cache,
      (work) => background.push(work),
    );
    const hash = await sha256Hex(`order-${crypto.randomUUID()}`);
    expect(await shown.locate(hash)).toEqual(found);
    expect(order).toEqual(["cache", "replica"]);
    await Promise.all(background);
    order.length = 0;
    expect(await shown.locate(hash)).toEqual(found);
    expect(order).toEqual(["cache"]);

    order.length = 0;
    const unshown = new KeyLocator(
      { replica: at("replica", null), primary: at("primary", null) },
      cache,
      (work) => background.push(work),
    );
    expect(await unshown.locate(await sha256Hex(`order-${crypto.randomUUID()}`))).toBeNull();
    expect(order).toEqual(["cache", "replica", "primary"]);
  });
});
