/**
 * Limits over real HTTP through `wrangler dev`: exactly N of 4N concurrent requests pass, and
 * the client sees the rate-limit headers.
 */
import { describe, expect, it } from "vitest";
import { admin, newKey, portcullis } from "./fixtures";

describe("limits over real HTTP", () => {
  it("lets exactly N of 4N concurrent requests through", async () => {
    const N = 20;
    const { key, id } = await newKey({ limits: { minute: N } });
    const responses = await Promise.all(
      Array.from({ length: 4 * N }, () =>
        fetch(portcullis("/api/products"), { headers: { "X-API-Key": key } }),
      ),
    );
    const passed = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 429);
    expect([passed.length, refused.length]).toEqual([N, 3 * N]);
    for (const response of refused) {
      expect(response.headers.get("x-portcullis-code")).toBe("rate_limited");
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(response.headers.get("ratelimit-policy")).toBe(`"minute";q=${N};w=60`);
    }
    await Promise.all(responses.map((response) => response.body?.cancel()));
    const self = await fetch(portcullis("/_portcullis/v1/self"), { headers: { "X-API-Key": key } });
    expect(await self.json()).toMatchObject({
      keyId: id,
      limits: [{ window: "minute", limit: N, remaining: 0 }],
    });
    expect((await admin("GET", `/keys/${id}`)).json.counters.limits[0]).toMatchObject({ remaining: 0 });
  });
});
