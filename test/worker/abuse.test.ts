/**
 * The abuse limit: a flood of well-formed unknown keys costs one D1 read each, creates no
 * Durable Object, and is slowed per client IP with 429.
 */
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checksumOf } from "../../src/keys/format";
import { BASE, call, countingDb, createKey, createWorkspace, direct, expectProblem } from "./helpers";

/** The binding's limit in wrangler.toml (`[[ratelimits]] simple.limit`). */
const LIMIT = 60;

function unknownKey(i: number): string {
  const body = `Flood${String(i).padStart(27, "0")}`;
  return `sk_test_${body}_${checksumOf(body)}`;
}

describe("abuse limit", () => {
  it("slows a client IP that floods unknown keys, without D1 reads or Durable Objects", async () => {
    const ip = "198.51.100.77";
    const objectsBefore = (await listDurableObjectIds(env.KEY_GATE)).length;
    const counted = countingDb(env.DB);
    const codes: string[] = [];
    for (let i = 0; i < LIMIT + 5; i++) {
      const response = await direct(
        new Request(`${BASE}/api/products`, {
          headers: { Authorization: `Bearer ${unknownKey(i)}`, "CF-Connecting-IP": ip },
        }),
        { DB: counted.db },
      );
      codes.push(response.headers.get("x-portcullis-code") ?? "");
    }
    expect(codes.slice(0, LIMIT)).toEqual(Array(LIMIT).fill("invalid_key"));
    expect(codes.slice(LIMIT)).toEqual(Array(5).fill("rate_limited"));
    // One D1 read per key until the limit; none once the client is slowed.
    expect(counted.statements).toHaveLength(LIMIT + 1);
    expect((await listDurableObjectIds(env.KEY_GATE)).length).toBe(objectsBefore);
    const slowed = await call("/api/products", { key: unknownKey(999), headers: { "CF-Connecting-IP": ip } });
    await expectProblem(slowed, 429, "rate_limited");
    expect(Number(slowed.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Another client is not affected.
    await expectProblem(
      await call("/api/products", { key: unknownKey(1000), headers: { "CF-Connecting-IP": "203.0.113.9" } }),
      401,
      "invalid_key",
    );
  });

  it("does not slow a slowed client's keys that this isolate already knows", async () => {
    const ip = "198.51.100.78";
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect((await call("/api/products", { key, headers: { "CF-Connecting-IP": ip } })).status).toBe(200);
    for (let i = 0; i <= LIMIT; i++)
      await call("/api/products", { key: unknownKey(2000 + i), headers: { "CF-Connecting-IP": ip } });
    await expectProblem(
      await call("/api/products", { key: unknownKey(3000), headers: { "CF-Connecting-IP": ip } }),
      429,
      "rate_limited",
    );
    expect((await call("/api/products", { key, headers: { "CF-Connecting-IP": ip } })).status).toBe(200);
  });
});
