/**
 * Leases over real HTTP through `wrangler dev` (default `leases.ms`, 1000): a key with limits
 * large enough to lease still admits exactly N of 4N concurrent requests, and a revoke made
 * under continuous load is in force for every request that starts after its response.
 */
import { describe, expect, it } from "vitest";
import { admin, newKey, portcullis } from "./fixtures";

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
      const statuses = responses.map((response) => response.status);
      expect([statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 429).length]).toEqual([
        N,
        3 * N,
      ]);
      await Promise.all(responses.map((response) => response.body?.cancel()));
    }
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
