/**
 * Leases (docs/consistency.md#leases) in the Workers runtime with real Durable Objects: an
 * isolate decides a warm key's requests without its object, counts stay exact, and every
 * admin change is in force for each request that starts after its response, also when it was
 * made by another isolate (here: the object's RPC called directly) or after the object restarted.
 *
 * These tests call the Worker through `direct`, so the leases they hold are in the same module
 * instance as the admin calls they make.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gateOf } from "../../src/key-client/client";
import type { ChangeContext } from "../../src/key-client/contract";
import { TEST_POLICY } from "../fixtures/policy";
import {
  adminRequest,
  BASE,
  countingDecisions,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  keyObject,
  UNLEASED,
} from "./helpers";

function keyed(key: string, path = "/api/products"): Request {
  return new Request(`${BASE}${path}`, { headers: { Authorization: `Bearer ${key}` } });
}

function statuses(responses: Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const response of responses) counts[response.status] = (counts[response.status] ?? 0) + 1;
  return counts;
}

/** KEY_GATE whose objects' `methods` go through `around`, which records, holds or hangs the call. */
function gatesCalling(
  methods: string[],
  around: (method: string, call: () => Promise<unknown>) => Promise<unknown>,
): typeof env.KEY_GATE {
  return {
    idFromName: (name: string) => env.KEY_GATE.idFromName(name),
    get: (id: DurableObjectId) =>
      new Proxy(env.KEY_GATE.get(id), {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (typeof property !== "string" || !methods.includes(property) || typeof value !== "function")
            return value;
          return (...args: unknown[]) => around(property, async () => Reflect.apply(value, target, args));
        },
      }),
  } as unknown as typeof env.KEY_GATE;
}

let changes = 0;
function context(): ChangeContext {
  changes += 1;
  return { actor: { type: "root" }, requestId: `lease-${changes}`, auditId: `aud_lease${changes}` };
}
const ROOT = { workspaceId: null, permissions: null };

describe("leases", () => {
  it("decide a warm key's requests in the isolate: far fewer object calls than requests", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const leased = countingDecisions(env.KEY_GATE);
    for (let i = 0; i < 40; i++) {
      expect((await direct(keyed(key), { KEY_GATE: leased.namespace })).status).toBe(200);
    }
    expect(leased.decisions()).toBeLessThan(10);

    const unleased = countingDecisions(env.KEY_GATE);
    const other = await createKey(ws);
    for (let i = 0; i < 40; i++) {
      expect((await direct(keyed(other.key), { ...UNLEASED, KEY_GATE: unleased.namespace })).status).toBe(
        200,
      );
    }
    expect(unleased.decisions()).toBe(40);
  });

  it("give no lease for a small limit: each request is counted by the object", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { limits: { minute: 10 } });
    const counting = countingDecisions(env.KEY_GATE);
    const responses = [];
    for (let i = 0; i < 12; i++) responses.push(await direct(keyed(key), { KEY_GATE: counting.namespace }));
    expect(statuses(responses)).toEqual({ 200: 10, 429: 2 });
    expect(counting.decisions()).toBe(12);
  });

  it("stay exact: N of 4N concurrent requests pass a leased hourly limit, a day quota and a balance", async () => {
    const ws = await createWorkspace();
    const N = 120;
    // An hour or a day: a minute window would refill a few requests while the test runs.
    for (const limits of [{ hour: N }, { day: N }]) {
      const { key } = await createKey(ws, { limits });
      const counting = countingDecisions(env.KEY_GATE);
      // A key's first request in an isolate asks for no lease; the burst after it may lease.
      expect((await direct(keyed(key), { KEY_GATE: counting.namespace })).status).toBe(200);
      const responses = await Promise.all(
        Array.from({ length: 4 * N - 1 }, () => direct(keyed(key), { KEY_GATE: counting.namespace })),
      );
      expect(statuses(responses)).toEqual({ 200: N - 1, 429: 3 * N });
      // The allowed ones were mostly decided under leases; the refusals near and past the limit
      // are the object's, which counts each request there.
      expect(counting.decisions()).toBeLessThan(4 * N);
    }
    const { key, id } = await createKey(ws, { credits: { remaining: 300 } });
    const responses = await Promise.all(Array.from({ length: 400 }, () => direct(keyed(key))));
    expect(statuses(responses)).toEqual({ 200: 300, 429: 100 });
    const record = await direct(adminRequest("GET", `/keys/${id}`));
    expect(((await record.json()) as { credits: unknown }).credits).toEqual({ remaining: 0, refill: null });
  });

  it("hold a revoke made elsewhere until the lease is over: no request that starts after it is allowed", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await direct(keyed(key))).status).toBe(200);
    expect((await direct(keyed(key))).status).toBe(200);
    // Continuous load from this isolate while another isolate (the object's RPC, called directly,
    // without this isolate settling its lease) revokes the key.
    let revokedAt: number | null = null;
    const started: { at: number; response: Promise<Response> }[] = [];
    const load = (async () => {
      const afterRevoke = () => started.filter((request) => request.at >= (revokedAt ?? Infinity)).length;
      while (revokedAt === null || afterRevoke() < 5) {
        started.push({ at: Date.now(), response: direct(keyed(key)) });
        await started.at(-1)?.response;
      }
    })();
    const outcome = await gateOf(env, id).revoke(ROOT, context());
    revokedAt = Date.now();
    expect(outcome.ok).toBe(true);
    await load;
    const after = started.filter((request) => request.at >= (revokedAt as number));
    expect(after.length).toBeGreaterThan(0);
    for (const request of after) await expectProblem(await request.response, 401, "key_revoked");
  });

  it("treat leases stored before a restart as outstanding", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await direct(keyed(key))).status).toBe(200);
    expect((await direct(keyed(key))).status).toBe(200);
    await evictDurableObject(keyObject(id));
    const outcome = await gateOf(env, id).revoke(ROOT, context());
    expect(outcome.ok).toBe(true);
    await expectProblem(await direct(keyed(key)), 401, "key_revoked");
  });

  it("settle this isolate's lease before it changes the key: the change and usage see every request", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    for (let i = 0; i < 5; i++) expect((await direct(keyed(key))).status).toBe(200);
    const patched = await direct(adminRequest("PATCH", `/keys/${id}`, { name: "renamed" }));
    expect(patched.status).toBe(200);
    const usage = await direct(adminRequest("GET", `/keys/${id}/usage`));
    const items = ((await usage.json()) as { items: { allowed: number }[] }).items;
    expect(items.at(-1)?.allowed).toBe(5);
    await direct(adminRequest("POST", `/keys/${id}/revoke`));
    await expectProblem(await direct(keyed(key)), 401, "key_revoked");
  });

  it("report what a lease decided when it ends, with no further request", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    for (let i = 0; i < 4; i++) expect((await direct(keyed(key))).status).toBe(200);
    let allowed = 0;
    for (let attempt = 0; attempt < 40 && allowed < 4; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const today = new Date().toISOString().slice(0, 10);
      const usage = await gateOf(env, id).usageOf(ROOT, "day", today, today);
      allowed = usage?.[today]?.valid ?? 0;
    }
    expect(allowed).toBe(4);
  });

  it("send no request to the object while the report of a lease that ran out is on its way", async () => {
    // Otherwise the object, which counts the lease's budget as used until the report arrives,
    // would refuse a request this isolate's returning budget pays for (seen under load: fewer
    // than N of 4N passed an hourly limit of N).
    const policy = { POLICY: JSON.stringify({ ...TEST_POLICY, leases: { ms: 300 } }) };
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { limits: { hour: 100_000 } });
    const calls: string[] = [];
    const { promise: held, resolve: letGo } = Promise.withResolvers<void>();
    const { promise: reporting, resolve: reported } = Promise.withResolvers<void>();
    const namespace = gatesCalling(["authorize", "release"], async (method, call) => {
      calls.push(method);
      if (method === "release") {
        reported();
        await held;
      }
      return call();
    });
    const send = () => direct(keyed(key), { ...policy, KEY_GATE: namespace });
    // The first request asks for no lease; the second brings one, which then runs out unused.
    for (let i = 0; i < 2; i++) expect((await send()).status).toBe(200);
    await reporting;
    const during = send();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toEqual(["authorize", "authorize", "release"]);
    letGo();
    expect((await during).status).toBe(200);
    expect(calls).toEqual(["authorize", "authorize", "release", "authorize"]);
  });

  it("a report of a lease that never settles holds the key's requests a few seconds, not for ever", async () => {
    // A report runs in work kept alive past a response: a call that hangs, or work the runtime
    // cancels, never settles, and the requests of its key would wait for it as long as the isolate.
    const policy = { POLICY: JSON.stringify({ ...TEST_POLICY, leases: { ms: 300 } }) };
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { limits: { hour: 100_000 } });
    const { promise: hung, resolve: unhang } = Promise.withResolvers<void>();
    const { promise: reporting, resolve: reported } = Promise.withResolvers<void>();
    const namespace = gatesCalling(["release"], async () => {
      reported();
      await hung;
    });
    const send = () => direct(keyed(key), { ...policy, KEY_GATE: namespace });
    for (let i = 0; i < 2; i++) expect((await send()).status).toBe(200);
    await reporting;
    const waited = new Promise<string>((resolve) => setTimeout(() => resolve("still waiting"), 15_000));
    const answer = await Promise.race([send().then((response) => response.status), waited]);
    unhang();
    expect(answer).toBe(200);
  });

  it("give unused budget back under the plan its workspace has now, not the plan it had at the key's creation", async () => {
    const ws = await createWorkspace("replanned", "free");
    const { key, id } = await createKey(ws);
    // The workspace moves to "pro" (hour: 1000) after the key was made: its leases draw on that hour.
    expect((await direct(adminRequest("PATCH", `/workspaces/${ws}`, { plan: "pro" }))).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await direct(keyed(key))).status).toBe(200);
    let allowed = 0;
    for (let attempt = 0; attempt < 40 && allowed < 4; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const today = new Date().toISOString().slice(0, 10);
      allowed = (await gateOf(env, id).usageOf(ROOT, "day", today, today))?.[today]?.valid ?? 0;
    }
    expect(allowed).toBe(4);
    // The lease was reported at its end: what it did not use is back, so 4 are used of 1000.
    const inspected = await direct(adminRequest("GET", `/keys/${id}`));
    const { counters } = (await inspected.json()) as { counters: { limits: { remaining: number }[] } };
    expect(counters.limits.map((limit) => limit.remaining)).toEqual([996]);
  });

  it("give an owned key's unused budget back to its windows: bursts reach exactly its day quota", async () => {
    // Bursts of 8, each a lease length and a half after the last (the soak's shape, 1.5 s apart
    // under `leases.ms` 1000, here scaled down): each lease ends between bursts, mostly unused.
    const policy = { POLICY: JSON.stringify({ ...TEST_POLICY, leases: { ms: 300 } }) };
    const ws = await createWorkspace();
    const owner = `bursty-${crypto.randomUUID().slice(0, 8)}`;
    const put = await direct(
      adminRequest("PUT", `/owners/${owner}?workspaceId=${ws}`, { limits: { minute: 10_000 } }),
    );
    expect(put.status).toBe(200);
    const N = 100;
    const { key, id } = await createKey(ws, { ownerId: owner, limits: { day: N } });
    const counting = countingDecisions(env.KEY_GATE);
    const responses: Response[] = [];
    for (let burst = 0; burst < 16; burst++) {
      const sent = Array.from({ length: 8 }, () =>
        direct(keyed(key), { ...policy, KEY_GATE: counting.namespace }),
      );
      responses.push(...(await Promise.all(sent)));
      await new Promise((resolve) => setTimeout(resolve, 450));
    }
    expect(statuses(responses)).toEqual({ 200: N, 429: 16 * 8 - N });
    // Most were decided under leases, which the owner's object granted.
    expect(counting.decisions()).toBeLessThan(16 * 8 - N + 40);
    // The key's own copy of its windows is the owner's count: no lease budget is stuck in it.
    const snapshot = await gateOf(env, id).snapshot(ROOT);
    expect(snapshot !== "absent" && snapshot?.counters.windows.day?.count).toBe(N);
  }, 30_000);
});
