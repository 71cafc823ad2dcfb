/**
 * The cold path (docs/consistency.md#the-cold-path): the first request of a key in an isolate.
 * Each test runs `verifyKey` in isolates of its own (a fresh memory of known keys), with
 * bindings that count the D1 statements and the calls of keys' objects, against real D1,
 * Durable Objects and the location's Cache API.
 */
import {
  createExecutionContext,
  evictDurableObject,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { contextObjectOf, contextShard } from "../../src/key-client/context-client";
import type { KeyGate } from "../../src/key-object/key-gate";
import type { WorkspaceContext } from "../../src/key-object/workspace-context";
import { sha256Hex } from "../../src/keys/hash";
import { type IsolateMemory, verifyDeps } from "../../src/services/deps";
import { verifyKey } from "../../src/services/verify-key";
import { keyLookupCache } from "../../src/storage/key-lookup-cache";
import { admin, BASE, countingDb, createKey, createWorkspace, direct, keyObject } from "./helpers";
import { compiled, newIsolate, productsCheck } from "./verify-fixture";

const CHECK = productsCheck("203.0.113.7");

/** A KEY_GATE binding that records every call made on its stubs, by method name. */
function recordingGates(calls: string[]): typeof env.KEY_GATE {
  return {
    idFromName: (name: string) => env.KEY_GATE.idFromName(name),
    get: (id: DurableObjectId) =>
      new Proxy(env.KEY_GATE.get(id), {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            calls.push(String(property));
            return Reflect.apply(value, target, args);
          };
        },
      }),
  } as unknown as typeof env.KEY_GATE;
}

/**
 * Verifies `key` in `memory`'s isolate; counts D1 statements and object calls, including the
 * work left running after the answer (a lease's report, the cache's write).
 */
async function verifyIn(memory: IsolateMemory, key: string) {
  const counted = countingDb(env.DB);
  const calls: string[] = [];
  const ctx = createExecutionContext();
  const deps = verifyDeps({ ...env, DB: counted.db, KEY_GATE: recordingGates(calls) }, ctx, memory);
  const { code } = await verifyKey(deps, compiled, key, CHECK);
  await waitOnExecutionContext(ctx);
  return { code, d1: counted.statements.length, calls };
}

describe("the cold path", () => {
  it("costs one D1 read and one call of the key's object: a key seen once holds no lease to report", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect(await verifyIn(newIsolate(), key)).toEqual({ code: "valid", d1: 1, calls: ["authorize"] });
  });

  it("reads no D1 in an isolate that never saw the key once its location's cache holds it", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect(await verifyIn(newIsolate(), key)).toMatchObject({ code: "valid", d1: 1 });
    expect(await keyLookupCache().get(await sha256Hex(key))).toEqual({
      id,
      type: "server",
      workspaceId: ws,
      tombstone: null,
    });
    expect(await verifyIn(newIsolate(), key)).toEqual({ code: "valid", d1: 0, calls: ["authorize"] });
  });

  it("never allows on a stale cache entry: a key deleted since is refused as its object says", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect(await verifyIn(newIsolate(), key)).toMatchObject({ code: "valid", d1: 1 });
    expect((await admin("DELETE", `/keys/${id}`)).status).toBe(204);
    // The location's entry still maps the hash to the live key...
    expect(await keyLookupCache().get(await sha256Hex(key))).toMatchObject({ id, tombstone: null });
    // ...and the key's object, asked as always, refuses it.
    expect(await verifyIn(newIsolate(), key)).toEqual({ code: "key_revoked", d1: 0, calls: ["authorize"] });
    const counted = countingDb(env.DB);
    const response = await direct(
      new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } }),
      { DB: counted.db },
    );
    expect(response.status).toBe(401);
    expect(response.headers.get("x-portcullis-code")).toBe("key_revoked");
    expect(counted.statements).toEqual([]);
  });

  it("caches no miss: a key presented before it exists works the moment it is imported", async () => {
    const ws = await createWorkspace();
    const key = `lg_cold-path-${crypto.randomUUID()}`;
    const isolate = newIsolate();
    expect(await verifyIn(isolate, key)).toMatchObject({ code: "invalid_key", d1: 1, calls: [] });
    expect(await keyLookupCache().get(await sha256Hex(key))).toBeNull();
    expect(
      (
        await admin("POST", "/keys/import", {
          workspaceId: ws,
          type: "legacy",
          key,
          permissions: ["products:read"],
        })
      ).status,
    ).toBe(201);
    expect(await verifyIn(isolate, key)).toMatchObject({ code: "valid", d1: 1 });
  });

  it("reads a deleted key's tombstone at most once per isolate, however often the key is presented", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await admin("DELETE", `/keys/${id}`)).status).toBe(204);
    const isolate = newIsolate();
    let reads = 0;
    for (let i = 0; i < 5; i++) {
      const { code, d1 } = await verifyIn(isolate, key);
      expect(code).toBe("key_revoked");
      reads += d1;
    }
    expect(reads).toBeLessThanOrEqual(1);
  });

  it("lets each of concurrent first requests of a key look it up itself, without a lease", async () => {
    // No request waits on another's I/O: the Workers runtime may cancel such a request as hung.
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const counted = countingDb(env.DB);
    const calls: string[] = [];
    const ctx = createExecutionContext();
    const deps = verifyDeps({ ...env, DB: counted.db, KEY_GATE: recordingGates(calls) }, ctx, newIsolate());
    const results = await Promise.all(
      Array.from({ length: 20 }, () => verifyKey(deps, compiled, key, CHECK)),
    );
    expect(results.map((result) => result.code)).toEqual(Array(20).fill("valid"));
    expect(counted.statements).toHaveLength(20);
    expect(calls.filter((call) => call === "authorize")).toHaveLength(20);
    // Known from then on: the next request reads no D1.
    expect((await verifyKey(deps, compiled, key, CHECK)).code).toBe("valid");
    expect(counted.statements).toHaveLength(20);
    await waitOnExecutionContext(ctx);
  });
});

/**
 * Empties the key's object (as when its D1 row was written but its object was not, or before the
 * upgrade from hash-named objects), then counts the D1 statements of the empty object and of the
 * key's context shard from here on.
 */
async function objectNeverHeld(workspaceId: string, id: string) {
  const object = keyObject(id);
  await runInDurableObject(object, (_instance: KeyGate, state) => state.storage.deleteAll());
  await evictDurableObject(object);
  const counted = { object: countingDb(env.DB), shard: countingDb(env.DB) };
  await runInDurableObject(keyObject(id), (instance: KeyGate) => {
    instance.db = counted.object.db;
  });
  const shard = env.WORKSPACE_CONTEXT.get(
    env.WORKSPACE_CONTEXT.idFromName(`${workspaceId}:${contextShard(id)}`),
  );
  await runInDurableObject(shard, (instance: WorkspaceContext) => {
    instance.db = counted.shard.db;
  });
  return { object: counted.object.statements, shard: counted.shard.statements };
}

describe("the cold path of a key its object never held (adoption)", () => {
  it("reads the record once in the object and the context only in its shard", async () => {
    const ws = await createWorkspace("adoption", "pro");
    const owner = `cold-${crypto.randomUUID().slice(0, 8)}`;
    const { key, id } = await createKey(ws, { roles: ["viewer"], ownerId: owner, permissions: [] });
    const counted = await objectNeverHeld(ws, id);
    const first = await verifyIn(newIsolate(), key);
    // The Worker's lookup; the object's read of the record it adopts (its context is not read:
    // decisions use the shard's); the shard's read of the workspace, the roles and the owner.
    expect({ ...first, object: counted.object.length, shard: counted.shard.length }).toEqual({
      code: "valid",
      d1: 1,
      calls: ["authorize", "adopt", "authorize"],
      object: 1,
      shard: 3,
    });
    // Decided under the shard's context: the role's permission and the workspace's plan.
    const inspected = await admin("GET", `/keys/${id}`);
    expect(inspected.status).toBe(200);
    expect(inspected.json.counters).toMatchObject({ plan: "pro", limits: [{ window: "hour", limit: 1000 }] });
  });
});

describe("a context shard on the cold path", () => {
  it("reads from D1 only the rows it does not hold: a warm workspace's row is not read again", async () => {
    const ws = await createWorkspace("warm", "pro");
    const owner = `warm-${crypto.randomUUID().slice(0, 8)}`;
    expect(
      (await admin("PUT", `/owners/${owner}/roles?workspaceId=${ws}`, { roles: ["editor"] })).status,
    ).toBe(200);
    const shard = contextObjectOf(env, ws, 0) as unknown as DurableObjectStub<WorkspaceContext>;
    const reads = await runInDurableObject(shard, async (instance: WorkspaceContext) => {
      const counted = countingDb(env.DB);
      instance.db = counted.db;
      const subject = {
        workspaceId: ws,
        roles: [] as string[],
        ownerId: null as string | null,
        type: "server",
      };
      const readsOf = async (ask: typeof subject) => {
        const before = counted.statements.length;
        const { context } = await instance.lend(ask, 1_000);
        return { reads: counted.statements.length - before, context };
      };
      const found = [
        await readsOf(subject),
        await readsOf({ ...subject, roles: ["viewer"] }),
        await readsOf({ ...subject, roles: ["viewer"], ownerId: owner }),
        await readsOf({ ...subject, roles: ["viewer"], ownerId: owner }),
      ];
      instance.db = env.DB;
      return found;
    });
    // The workspace once; then the role alone; then the owner and its roles; then nothing.
    expect(reads.map((read) => read.reads)).toEqual([1, 1, 2, 0]);
    expect(reads.at(-1)?.context).toMatchObject({
      workspacePlan: "pro",
      rolePermissions: { viewer: ["products:read"] },
      ownerRoles: ["editor"],
      ownerRolePermissions: { editor: ["products:read", "products:write"] },
    });
  });
});

describe("a context shard's read", () => {
  it("lends the roles it held when the read began, though another ask dropped them meanwhile", async () => {
    const ws = await createWorkspace("dropped", "pro");
    // The workspace's own roles: the policy's are composed without a read.
    for (const [name, permissions] of [
      ["kept", ["products:read"]],
      ["fresh", ["reports:read"]],
    ] as const) {
      expect((await admin("POST", "/roles", { workspaceId: ws, name, permissions })).status).toBe(201);
    }
    const shard = contextObjectOf(env, ws, 1) as unknown as DurableObjectStub<WorkspaceContext>;
    const subject = { workspaceId: ws, roles: ["kept"], ownerId: null as string | null, type: "server" };
    const { context, bound } = await runInDurableObject(shard, async (instance: WorkspaceContext) => {
      await instance.lend(subject, 1_000);
      // Holds the read of the role not kept, and drops the kept one meanwhile, as the memory's
      // bound does when other asks bring in more roles than it keeps.
      const { promise: held, resolve: letGo } = Promise.withResolvers<void>();
      const { promise: reading, resolve: began } = Promise.withResolvers<void>();
      const real = env.DB;
      const bound: unknown[][] = [];
      instance.db = {
        prepare: (sql: string) => {
          const statement = real.prepare(sql);
          return {
            bind: (...values: unknown[]) => {
              bound.push(values);
              const statementBound = statement.bind(...values);
              return {
                all: async () => {
                  began();
                  await held;
                  return statementBound.all();
                },
                first: () => statementBound.first(),
              };
            },
          };
        },
      } as unknown as D1Database;
      const lent = instance.lend({ ...subject, roles: ["kept", "fresh"] }, 1_000);
      await reading;
      (instance as unknown as { rows: { roles: Map<string, unknown> } }).rows.roles.delete("kept");
      letGo();
      const { context } = await lent;
      instance.db = real;
      return { context, bound };
    });
    // Only the role not kept was read.
    expect(bound).toEqual([[ws, JSON.stringify(["fresh"]), null]]);
    expect(context.rolePermissions).toEqual({ kept: ["products:read"], fresh: ["reports:read"] });
  });
});
