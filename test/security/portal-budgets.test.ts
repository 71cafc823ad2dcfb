/**
 * Attack class: portal calls that escape every budget (docs/portal.md#limits). A member's calls
 * are counted once its workspace is known; a valid token whose organisation has no workspace
 * has no member budget to count against, so its refusals count toward the client IP's abuse
 * limit like a failed token's, or one provider token buys unlimited lookups.
 */
import { describe, expect, it } from "vitest";
import { expectProblem } from "../worker/helpers";
import { member, portalEnv, portalFetch } from "./portal-support";

describe("portal: an organisation without a workspace", () => {
  it("counts its refusals toward the client IP's abuse limit", { timeout: 60_000 }, async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    let calls = 0;
    const limiter = {
      limit: async () => {
        calls += 1;
        return { success: calls <= 3 };
      },
    };
    const limited = { ...portalEnv(), ABUSE_LIMITER: limiter } as unknown as Partial<Env>;
    const token = await member(`org_unknown_${crypto.randomUUID().slice(0, 8)}`, "owner");
    const call = () =>
      portalFetch("GET", "/session", { token, env: limited, headers: { "CF-Connecting-IP": ip } });
    for (let i = 0; i < 3; i += 1) await expectProblem(await call(), 403, "workspace_unknown");
    const over = await call();
    await expectProblem(over, 429, "rate_limited");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(calls).toBe(4);
  });
});
