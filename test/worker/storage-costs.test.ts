/**
 * What verification costs in storage: a warm key one Durable Object call and no D1 read; an
 * unknown key one D1 read without read replication (two with it: the replica's, then the
 * primary's) and no Durable Object; a malformed key nothing at all.
 */
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checksumOf } from "../../src/keys/format";
import { BASE, countingDb, countingGates, createKey, createWorkspace, direct } from "./helpers";

/**
 * A D1 binding with read replicas that lag: a session that may read a replica
 * (`withSession()` other than "first-primary") finds no row at all. Counts the statements each
 * side ran.
 */
function laggingReplicas() {
  const primary: string[] = [];
  const replica: string[] = [];
  const stale = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => stale(target.bind(...values));
        if (property === "first") return async () => null;
        if (property === "all") return async () => ({ results: [], success: true, meta: {} });
        if (property === "raw") return async () => [];
        return Reflect.get(target, property);
      },
    });
  const onPrimary = {
    prepare(sql: string) {
      primary.push(sql);
      return env.DB.prepare(sql);
    },
    batch: (list: D1PreparedStatement[]) => env.DB.batch(list),
    getBookmark: () => null,
  };
  const db = {
    ...onPrimary,
    exec: (sql: string) => env.DB.exec(sql),
    withSession: (constraint?: string) =>
      constraint === "first-primary"
        ? onPrimary
        : {
            prepare(sql: string) {
              replica.push(sql);
              return stale(env.DB.prepare(sql));
            },
            batch: (list: D1PreparedStatement[]) => env.DB.batch(list),
            getBookmark: () => null,
          },
  } as unknown as D1Database;
  return { db, primary, replica };
}

async function countedCall(key: string) {
  const counted = countingDb(env.DB);
  const gates = countingGates(env.KEY_GATE);
  const response = await direct(
    new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } }),
    {
      DB: counted.db,
      KEY_GATE: gates.namespace,
    },
  );
  return { status: response.status, d1: counted.statements.length, objects: gates.gets() };
}

describe("storage cost of verification", () => {
  it("a warm key costs at most one Durable Object call and no D1 read, and none under its lease", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const cold = await countedCall(key);
    expect(cold).toEqual({ status: 200, d1: 1, objects: 1 });
    // The second request asks the object for a lease; the ones after it are decided under it.
    expect(await countedCall(key)).toEqual({ status: 200, d1: 0, objects: 1 });
    for (let i = 0; i < 4; i++) expect(await countedCall(key)).toEqual({ status: 200, d1: 0, objects: 0 });
  });

  it("a well-formed unknown key costs one D1 read without replicas and creates no Durable Object", async () => {
    const before = (await listDurableObjectIds(env.KEY_GATE)).length;
    for (let i = 0; i < 5; i++) {
      const body = `${"B".repeat(31)}${i}`;
      expect(await countedCall(`sk_test_${body}_${checksumOf(body)}`)).toEqual({
        status: 401,
        d1: 1,
        objects: 0,
      });
    }
    expect((await listDurableObjectIds(env.KEY_GATE)).length).toBe(before);
  });

  it("a malformed key or unknown prefix touches no storage", async () => {
    for (const key of ["sk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_00000000", "nope_123", "x"]) {
      expect(await countedCall(key)).toEqual({ status: 401, d1: 0, objects: 0 });
    }
  });

  it("never trusts a read replica's miss: a key created a moment ago works, an unknown key costs a replica and a primary read", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const fresh = laggingReplicas();
    const request = (value: string) =>
      direct(new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${value}` } }), {
        DB: fresh.db,
      });
    expect((await request(key)).status).toBe(200);
    expect({ primary: fresh.primary.length, replica: fresh.replica.length }).toEqual({
      primary: 1,
      replica: 1,
    });
    const unknown = laggingReplicas();
    const body = "C".repeat(32);
    const response = await direct(
      new Request(`${BASE}/api/products`, {
        headers: { Authorization: `Bearer sk_test_${body}_${checksumOf(body)}` },
      }),
      { DB: unknown.db },
    );
    expect(response.status).toBe(401);
    expect({ primary: unknown.primary.length, replica: unknown.replica.length }).toEqual({
      primary: 1,
      replica: 1,
    });
  });
});
