import { describe, expect, it } from "vitest";
import { usageHeaders } from "../../src/limits/headers";
import { meter } from "../../src/limits/meter";

describe("usage headers (draft-ietf-httpapi-ratelimit-headers-10)", () => {
  const now = Date.UTC(2027, 1, 10, 12, 0, 0);

  it("lists every window in RateLimit-Policy and the tightest in RateLimit", () => {
    const result = meter({
      limits: [
        ["minute", 10],
        ["day", 300],
        ["month", 1000],
      ],
      windows: {},
      credits: null,
      cost: 1,
      now,
      take: true,
    });
    expect(usageHeaders(result)).toEqual({
      "RateLimit-Policy": `"minute";q=10;w=60, "day";q=300;w=86400, "month";q=1000;w=${28 * 86_400}`,
      RateLimit: `"minute";r=9;t=0`,
    });
  });

  it("adds Retry-After to a refusal and X-Credits-Remaining for a key with credits", () => {
    const credits = { remaining: 2, refill: null, period: null };
    const refused = meter({
      limits: [["second", 1]],
      windows: { second: { tat: now + 1_000 } },
      credits,
      cost: 1,
      now,
      take: true,
    });
    expect(usageHeaders(refused)).toEqual({
      "RateLimit-Policy": `"second";q=1;w=1`,
      RateLimit: `"second";r=0;t=1`,
      "Retry-After": "1",
      "X-Credits-Remaining": "2",
    });
  });

  it("sends nothing for a key without limits or credits", () => {
    expect(usageHeaders({ windows: [], credits: null, retryAfter: null })).toEqual({});
  });
});
