/**
 * Attack class: a member's limits beyond the plan its key will have (docs/portal.md#creating).
 * A key's own positive value for a window replaces its plan's, so the portal must bound what a
 * member sets by the plan the new key is decided under: the workspace's, else the key type's,
 * else the deployment's default (docs/policy.md), the same plan `GET /session` shows.
 */
import { describe, expect, it } from "vitest";
import { BASE, direct, expectProblem } from "../worker/helpers";
import {
  keyCount,
  member,
  organisation,
  PORTAL_POLICY,
  portal,
  portalEnv,
  portalFetch,
} from "./portal-support";

/** The server type decided under the `metered` plan (10 a minute); the default plan is roomier. */
const TYPE_PLAN = portalEnv(
  {},
  {
    keyTypes: { ...PORTAL_POLICY.keyTypes, server: { ...PORTAL_POLICY.keyTypes.server, plan: "metered" } },
    plans: { ...PORTAL_POLICY.plans, roomy: { limits: { minute: 1000, day: 100_000 } } },
    defaultPlan: "roomy",
  },
);

describe("portal: limits within the key's plan", () => {
  it("bounds a member's limits by the key type's plan when the workspace has none", async () => {
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const session = await portal("GET", "/session", { token, env: TYPE_PLAN });
    expect(session.status, session.text).toBe(200);
    const server = (session.json.keyTypes as Array<{ type: string; limits: unknown }>).find(
      (type) => type.type === "server",
    );
    expect(server?.limits).toEqual([
      { window: "minute", max: 10 },
      { window: "day", max: 20 },
    ]);
    await expectProblem(
      await portalFetch("POST", "/keys", {
        token,
        env: TYPE_PLAN,
        body: { type: "server", name: "roomy", limits: { minute: 500 } },
      }),
      400,
      "bad_request",
    );
    expect(await keyCount(ws.id)).toBe(0);
    const within = await portal("POST", "/keys", {
      token,
      env: TYPE_PLAN,
      body: { type: "server", name: "within", limits: { minute: 10 } },
    });
    expect(within.status, within.text).toBe(201);
  });

  it("keeps a plan's window of 0 (no requests) closed to a member's own value", async () => {
    const frozen = portalEnv(
      {},
      { plans: { ...PORTAL_POLICY.plans, frozen: { limits: { day: 0 } } }, defaultPlan: "frozen" },
    );
    const ws = await organisation();
    const token = await member(ws.org, "owner");
    const session = await portal("GET", "/session", { token, env: frozen });
    const server = (session.json.keyTypes as Array<{ type: string; limits: unknown }>).find(
      (type) => type.type === "server",
    );
    expect(server?.limits).toEqual([
      { window: "minute", max: null },
      { window: "day", max: 0 },
    ]);
    // Under the plan, a key of the workspace makes no request a day.
    const plain = await portal("POST", "/keys", {
      token,
      env: frozen,
      body: { type: "server", name: "plain" },
    });
    expect(plain.status, plain.text).toBe(201);
    const request = new Request(`${BASE}/api/products`, {
      headers: { Authorization: `Bearer ${plain.json.key as string}` },
    });
    expect((await direct(request, frozen)).status).toBe(429);
    const before = await keyCount(ws.id);
    await expectProblem(
      await portalFetch("POST", "/keys", {
        token,
        env: frozen,
        body: { type: "server", name: "thawed", limits: { day: 1000 } },
      }),
      400,
      "bad_request",
    );
    expect(await keyCount(ws.id)).toBe(before);
  });
});
