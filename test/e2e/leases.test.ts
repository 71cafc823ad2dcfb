/**
 * Leases over real HTTP through `wrangler dev` (default `leases.ms`, 1000): a key with limits
 * large enough to lease still admits exactly N of 4N concurrent requests, an owned key's bursts
 * reach exactly its quota, and a revoke made under continuous load is in force for every request
 * that starts after its response. Then two isolates (second-isolate.ts) deciding under their own
 * leases against the same objects: never above a limit, exactly it once leases are over, and an
 * isolate killed with a lease loses at most that lease's usage, never a limit or a credit.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  admin,
  E2E_ROOT_TOKEN,
  E2E_SIGNING_SECRET,
  e2ePolicy,
  type Json,
  newKey,
  portcullis,
} from "./fixtures";
import { type IsolatePair, startIsolatePair } from "./second-isolate";

const LEASE_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const get = (key: string) => fetch(portcullis("/api/products"), { headers: { "X-API-Key": key } });

describe("leases over real HTTP", () => {
  it("lets exactly N of 4N concurrent requests through a leased limit and quota", async () => {
    // Large enough to lease (16 left at least), small enough that the requests the object counts
    // alone near the limit do not overload it under `wrangler dev`.
    const N = 50;
    // An hour or a day: a minute window would refill a few requests while the test runs.
    for (const limits of [{ hour: N }, { day: N }]) {
      const { key } = await newKey({ limits });
      const responses = await Promise.all(Array.from({ length: 4 * N }, () => get(key)));
      // Admitted: forwarded, whether the origin answered in time (200) or, on a loaded machine,
      // after the fixture's 2 s origin timeout (504 origin_timeout): the limiter let both pass.
      const codes = responses.map(
        (response) => response.headers.get("X-Portcullis-Code") ?? String(response.status),
      );
      const admitted = codes.filter((code) => code === "200" || code === "origin_timeout").length;
      expect([
        admitted,
        codes.filter((code) => code === "rate_limited" || code === "quota_exceeded").length,
      ]).toEqual([N, 3 * N]);
      await Promise.all(responses.map((response) => response.body?.cancel()));
    }
  });

  it("lets an owned key's bursts from one isolate reach exactly its day quota", async () => {
    // Bursts of 8 a lease length and a half apart: each lease ends between bursts, mostly
    // unused, and its unused budget must come back to the key's windows and the owner's.
    const N = 60;
    const { key, workspaceId } = await newKey({ ownerId: "bursty", limits: { day: N } });
    const put = await admin("PUT", `/owners/bursty?workspaceId=${workspaceId}`, {
      limits: { minute: 10_000 },
    });
    expect(put.status).toBe(200);
    const statuses: number[] = [];
    for (let burst = 0; burst < 10; burst++) {
      const responses = await Promise.all(Array.from({ length: 8 }, () => get(key)));
      for (const response of responses) {
        statuses.push(response.status);
        await response.body?.cancel();
      }
      await sleep(1.5 * LEASE_MS);
    }
    expect([statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 429).length]).toEqual([
      N,
      80 - N,
    ]);
  });

  it("allows no request that starts after a revoke's response, under continuous load", async () => {
    const { key, id } = await newKey({});
    let revokedAt: number | null = null;
    const started: { at: number; status: Promise<number> }[] = [];
    const worker = async () => {
      let after = 0;
      while (after < 20) {
        const at = performance.now();
        if (revokedAt !== null && at >= revokedAt) after += 1;
        const status = get(key).then(async (response) => {
          await response.body?.cancel();
          return response.status;
        });
        started.push({ at, status });
        await status;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    // Let the load run under a lease first.
    while (started.length < 100) await new Promise((resolve) => setTimeout(resolve, 10));
    const revoked = await admin("POST", `/keys/${id}/revoke`);
    revokedAt = performance.now();
    expect(revoked.status).toBe(200);
    await load;
    const before = await Promise.all(
      started.filter((r) => r.at < (revokedAt as number)).map((r) => r.status),
    );
    const after = await Promise.all(
      started.filter((r) => r.at >= (revokedAt as number)).map((r) => r.status),
    );
    expect(before).toContain(200);
    expect(after.length).toBeGreaterThanOrEqual(8 * 20);
    expect(new Set(after)).toEqual(new Set([401]));
  });
});

/** Admin calls and keyed requests against one of the two isolates. */
function against(base: string) {
  return {
    async admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
      const response = await fetch(`${base}/_portcullis/admin/v1${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${E2E_ROOT_TOKEN}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : {} };
    },
    async get(key: string): Promise<number> {
      const response = await fetch(`${base}/api/products`, { headers: { "X-API-Key": key } });
      await response.body?.cancel();
      return response.status;
    },
  };
}

describe("two isolates deciding under their own leases against the same objects", () => {
  let pair: IsolatePair;
  let first: ReturnType<typeof against>;
  let second: ReturnType<typeof against>;

  beforeAll(async () => {
    pair = await startIsolatePair({
      POLICY: JSON.stringify({ ...e2ePolicy(inject("originUrl")), leases: { ms: LEASE_MS } }),
      ADMIN_TOKEN: E2E_ROOT_TOKEN,
      ORIGIN_SIGNING_SECRET: E2E_SIGNING_SECRET,
    });
    first = against(pair.first.url);
    second = against(pair.second.url);
  });
  afterAll(async () => {
    await pair?.stop();
  });

  async function created(fields: Json): Promise<{ key: string; id: string; workspaceId: string }> {
    const workspace = await first.admin("POST", "/workspaces", { name: "pair" });
    expect(workspace.status).toBe(201);
    const key = await first.admin("POST", "/keys", {
      workspaceId: workspace.json.id,
      type: "server",
      ...fields,
    });
    expect(key.status, JSON.stringify(key.json)).toBe(201);
    return { key: key.json.key, id: key.json.id, workspaceId: workspace.json.id };
  }

  it("share the key's object: a revoke made through one is in force in the other at its answer", async () => {
    const { key, id } = await created({});
    for (let i = 0; i < 3; i++) {
      expect(await first.get(key)).toBe(200);
      expect(await second.get(key)).toBe(200);
    }
    expect((await second.admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    expect(await first.get(key)).toBe(401);
    expect(await second.get(key)).toBe(401);
  });

  it("a role narrowed through one is in force for the other's next request, though it held a lease", async () => {
    const { workspaceId } = await created({});
    const role = (permissions: string[]) =>
      first.admin("POST", "/roles", { workspaceId, name: "reader", permissions });
    expect((await role(["products:read"])).status).toBe(201);
    const holder = await first.admin("POST", "/keys", {
      workspaceId,
      type: "server",
      permissions: [],
      roles: ["reader"],
    });
    expect(holder.status).toBe(201);
    const key = holder.json.key as string;
    // The second isolate's second request takes a lease; its third is decided under it.
    for (let i = 0; i < 3; i++) expect(await second.get(key)).toBe(200);
    const started = performance.now();
    expect((await role([])).status).toBe(201);
    expect(performance.now() - started).toBeLessThan(LEASE_MS + 1_000);
    expect(await second.get(key)).toBe(403);
    expect(await first.get(key)).toBe(403);
  });

  it("never admit more than an owned key's quota between them, and exactly it once their leases are over", async () => {
    const N = 100;
    const { key, workspaceId } = await created({ ownerId: "shared", limits: { day: N } });
    const put = await first.admin("PUT", `/owners/shared?workspaceId=${workspaceId}`, {
      limits: { minute: 10_000 },
    });
    expect(put.status).toBe(200);
    let allowed = 0;
    for (let round = 0; round < 9; round++) {
      const burst = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? first : second).get(key));
      allowed += (await Promise.all(burst)).filter((status) => status === 200).length;
      expect(allowed).toBeLessThanOrEqual(N);
      await sleep(1.2 * LEASE_MS);
    }
    // Every lease is over and reported: what they did not use is back, one isolate takes the rest.
    await sleep(1.5 * LEASE_MS);
    for (let i = 0; i < N && (await first.get(key)) === 200; i++) allowed += 1;
    expect(allowed).toBe(N);
  });

  it("let no weaker admin key lock a stronger one out through its owner, whichever isolate sets the owner", async () => {
    const workspace = await first.admin("POST", "/workspaces", { name: "admins" });
    const workspaceId = workspace.json.id;
    const adminKey = async (fields: Json) => {
      const created = await first.admin("POST", "/keys", { workspaceId, type: "admin", ...fields });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      return created.json.key as string;
    };
    const strong = await adminKey({ permissions: ["*"], ownerId: "ops" });
    const weak = await adminKey({ permissions: ["audit:read", "keys:read", "keys:write", "keys:verify"] });
    const call = async (base: string, key: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}/_portcullis/admin/v1${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await response.body?.cancel();
      return response.status;
    };
    // The strong key works in both isolates (each verifies it, and may hold a lease on it).
    for (const base of [pair.first.url, pair.second.url]) {
      expect(await call(base, strong, "GET", `/workspaces/${workspaceId}`)).toBe(200);
    }
    // The weaker key, through the second isolate, gives the strong key's owner a day quota of 1.
    expect(
      await call(pair.second.url, weak, "PUT", `/owners/ops?workspaceId=${workspaceId}`, {
        limits: { day: 1 },
      }),
    ).toBe(200);
    for (let i = 0; i < 4; i++) {
      for (const base of [pair.first.url, pair.second.url]) {
        expect(await call(base, strong, "GET", `/workspaces/${workspaceId}`)).toBe(200);
      }
    }
  });

  it("lose, when one is killed holding a lease, at most the usage of its unreported leases, and no limit or credit", async () => {
    const { key, id } = await created({ limits: { day: 5_000 }, credits: { remaining: 5_000 } });
    // Sequential requests through the second isolate, several lease lengths long, each timed.
    const decisions: { at: number; status: number }[] = [];
    const until = performance.now() + 5 * LEASE_MS;
    while (performance.now() < until)
      decisions.push({ status: await second.get(key), at: performance.now() });
    const killedAt = performance.now();
    pair.killSecondIsolate();
    const allowed = decisions.filter((decision) => decision.status === 200).length;
    expect(allowed).toBe(decisions.length);
    // What docs/consistency.md#leases bounds: the decisions of its leases not reported yet, each
    // made within a lease (`leases.ms`): the one it held, and the one before if its report was on its way.
    const bound = decisions.filter((decision) => decision.at >= killedAt - 2 * LEASE_MS).length;
    expect(bound).toBeLessThan(allowed);
    await sleep(1.5 * LEASE_MS);

    const usage = await first.admin("GET", `/keys/${id}/usage`);
    expect(usage.status).toBe(200);
    const counted = (usage.json.items as { allowed: number }[]).reduce((sum, item) => sum + item.allowed, 0);
    expect(counted).toBeLessThanOrEqual(allowed);
    expect(allowed - counted).toBeLessThanOrEqual(bound);
    // The credits and the quota count every request allowed, and the lease's unused budget.
    const record = await first.admin("GET", `/keys/${id}`);
    expect(record.json.credits.remaining).toBeLessThanOrEqual(5_000 - allowed);
  });
});
