/**
 * Changes of bounded cost (docs/consistency.md#context): a workspace of 5,000 keys, every key's
 * object holding its context and many isolate leases out, gets a plan downgrade. The change
 * calls the workspace's context shards only (`CONTEXT_SHARDS` calls, no key's object), answers
 * within `leases.ms` plus a small constant, and the next request of every one of the 5,000 keys
 * is decided under the new plan.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { GateState } from "../../src/decision/decide";
import { gateOf } from "../../src/key-client/client";
import { CONTEXT_SHARDS } from "../../src/key-client/context-client";
import { generateKey, keyStart } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import { newId } from "../../src/keys/random";
import type { KeyRecord } from "../../src/keys/record";
import { verifyDeps } from "../../src/services/deps";
import { verifyKey } from "../../src/services/verify-key";
import { adminRequest, countingDb, createWorkspace, direct } from "./helpers";
import { compiled, newIsolate } from "./verify-fixture";

const KEYS = 5_000;
/** Keys whose isolate lease is out when the change is made. */
const WARM = 500;
/** Calls made at once while creating and asking keys. */
const CONCURRENCY = 50;
const LEASE_MS = compiled.gatePolicy("server").leaseMs ?? 0;

/** `GET /api/reports` as the test policy routes it: the `pro` plan grants `reports:read`. */
const REPORTS = {
  keyTypes: null,
  permissions: ["reports:read"],
  anyPermissions: [],
  ip: "203.0.113.9",
  workspaceId: null,
  cost: 1,
  consume: true,
};

/** A Durable Object namespace whose stubs count every RPC call made through them. */
function countingCalls<N extends DurableObjectNamespace>(namespace: N) {
  let calls = 0;
  const wrapped = {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) =>
      new Proxy(namespace.get(id), {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            calls += 1;
            return Reflect.apply(value, target, args);
          };
        },
      }),
  } as unknown as N;
  return { namespace: wrapped, calls: () => calls };
}

/** Runs `work` over `items`, `CONCURRENCY` at a time. */
async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += CONCURRENCY) {
    results.push(...(await Promise.all(items.slice(start, start + CONCURRENCY).map(work))));
  }
  return results;
}

/** Creates a key through its object, as `POST /keys` does (without the HTTP and its checks). */
async function createKeyDirectly(workspaceId: string, index: number): Promise<string> {
  const format = compiled.formats.find((candidate) => candidate.type === "server");
  if (!format) throw new Error("the test policy has no server keys");
  const key = generateKey(format);
  const now = Date.now();
  const record: KeyRecord = {
    id: newId("key"),
    workspaceId,
    type: "server",
    name: `k${index}`,
    start: keyStart(key, format),
    ownerId: null,
    permissions: [],
    roles: [],
    meta: {},
    plan: null,
    limits: {},
    credits: null,
    ipAllowlist: [],
    enabled: true,
    expiresAt: null,
    revokedAt: null,
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
    rotatedFrom: null,
    createdBy: { type: "root" },
  };
  const state: GateState = { record, workspacePlan: "pro", rolePermissions: {}, rolesCheckedAt: now };
  const outcome = await gateOf(env, record.id).create(state, await sha256Hex(key), "key.create", {
    actor: { type: "root" },
    requestId: `scale-${index}`,
    auditId: newId("aud"),
  });
  if (!outcome.ok) throw new Error(`creation failed: ${outcome.code}`);
  return key;
}

describe("a change of bounded cost", () => {
  it(`a plan downgrade of a ${KEYS}-key workspace calls its ${CONTEXT_SHARDS} context shards and no key's object, answers within leases.ms, and holds for every key's next request`, async () => {
    const ws = await createWorkspace("scale", "pro");
    const indexes = Array.from({ length: KEYS }, (_, index) => index);
    const keys = await inBatches(indexes, (index) => createKeyDirectly(ws, index));
    const deps = verifyDeps(env, createExecutionContext(), newIsolate());
    const verify = (key: string) => verifyKey(deps, compiled, key, REPORTS);

    // Every key's object holds a context (under `pro`); the last WARM keys then take a lease
    // each (a key's first request here asks none), as late as possible before the change.
    const before = await inBatches(keys, verify);
    expect(before.filter((outcome) => outcome.code === "valid").length).toBe(KEYS);
    const warm = keys.slice(-WARM);
    const leased = await inBatches(warm, verify);
    expect(leased.every((outcome) => outcome.code === "valid")).toBe(true);
    // Held leases answer without any object: counted while the change starts.
    const decisions = countingCalls(env.KEY_GATE);
    const underLease = verifyDeps({ ...env, KEY_GATE: decisions.namespace }, createExecutionContext(), {
      known: deps.known,
      abuse: deps.abuse,
    });
    const warmNow = await Promise.all(warm.map((key) => verifyKey(underLease, compiled, key, REPORTS)));
    expect(warmNow.every((outcome) => outcome.code === "valid")).toBe(true);
    const warmWithoutCall = WARM - decisions.calls();
    expect(warmWithoutCall).toBeGreaterThan(0);

    const gates = countingCalls(env.KEY_GATE);
    const shards = countingCalls(env.WORKSPACE_CONTEXT);
    const d1 = countingDb(env.DB);
    const started = Date.now();
    const answer = await direct(adminRequest("PATCH", `/workspaces/${ws}`, { plan: "free" }), {
      KEY_GATE: gates.namespace,
      WORKSPACE_CONTEXT: shards.namespace,
      DB: d1.db,
    });
    const elapsed = Date.now() - started;
    expect(answer.status).toBe(200);
    expect(gates.calls()).toBe(0);
    expect(shards.calls()).toBe(CONTEXT_SHARDS);
    // Whatever the number of keys: the workspace's read, then its write with the audit entry.
    expect(d1.statements.length).toBeLessThanOrEqual(3);
    expect(elapsed).toBeLessThan(LEASE_MS + 1_000);

    // Every key's next request, in this isolate (leases held before included): the new plan.
    const after = await inBatches(keys, verify);
    const codes: Record<string, number> = {};
    for (const outcome of after) codes[outcome.code] = (codes[outcome.code] ?? 0) + 1;
    expect(codes).toEqual({ insufficient_permissions: KEYS });
    console.info(
      `context-scale: ${KEYS} keys, ${warmWithoutCall} leases out at the change; answered in ${elapsed} ms with ${shards.calls()} shard calls, ${gates.calls()} key-object calls, ${d1.statements.length} D1 statements`,
    );
  }, 900_000);
});
