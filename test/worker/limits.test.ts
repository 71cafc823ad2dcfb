/**
 * Limits, quotas and credits (docs/consistency.md) through the Worker and the key's Durable Object:
 * exactness under concurrency, the plan chain, the headers, window edges on a controlled clock.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyGate } from "../../src/key-object/key-gate";
import { ROOT_TOKEN, TEST_POLICY } from "../fixtures/policy";
import {
  admin,
  call,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  type Json,
  keyObjectFor,
} from "./helpers";

async function setClock(key: string, at: number): Promise<void> {
  const stub = await keyObjectFor(key);
  await runInDurableObject(stub, (instance: KeyGate) => {
    instance.now = () => at;
  });
}

function statuses(responses: Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const response of responses) counts[response.status] = (counts[response.status] ?? 0) + 1;
  return counts;
}

describe("exactness", () => {
  it("with limit N, exactly N of 4N concurrent requests pass", async () => {
    const ws = await createWorkspace();
    const N = 25;
    const { key } = await createKey(ws, { limits: { minute: N } });
    const responses = await Promise.all(Array.from({ length: 4 * N }, () => call("/api/products", { key })));
    expect(statuses(responses)).toEqual({ 200: N, 429: 3 * N });
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(response.headers.get("x-portcullis-code")).toBe("rate_limited");
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
  });

  it("exactly N of 4N concurrent requests pass a daily quota, and credits are never overdrawn", async () => {
    const ws = await createWorkspace();
    const quota = await createKey(ws, { limits: { day: 30 } });
    const quotaResponses = await Promise.all(
      Array.from({ length: 120 }, () => call("/api/products", { key: quota.key })),
    );
    expect(statuses(quotaResponses)).toEqual({ 200: 30, 429: 90 });
    const credited = await createKey(ws, { credits: { remaining: 50 } });
    const creditResponses = await Promise.all(
      Array.from({ length: 40 }, () => call("/api/expensive", { key: credited.key })),
    );
    expect(statuses(creditResponses)).toEqual({ 200: 10, 429: 30 });
    expect((await admin("GET", `/keys/${credited.id}`)).json.credits).toEqual({ remaining: 0, refill: null });
  });
});

describe("headers", () => {
  it("sends RateLimit-Policy for every window and RateLimit for the tightest, on allowed and denied requests", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { plan: "burst", permissions: ["products:read"] });
    const allowed = await call("/api/products", { key });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("ratelimit-policy")).toBe(
      `"second";q=1;w=1, "minute";q=10;w=60, "day";q=300;w=86400`,
    );
    expect(allowed.headers.get("ratelimit")).toBe(`"second";r=0;t=1`);
    const limited = await call("/api/products", { key });
    await expectProblem(limited, 429, "rate_limited");
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.headers.get("ratelimit")).toBe(`"second";r=0;t=1`);
    // A denial for another reason still carries the headers, and consumes nothing.
    await setClock(key, Date.now() + 5_000);
    const forbidden = await call("/api/products", { key, method: "POST" });
    await expectProblem(forbidden, 403, "insufficient_permissions");
    expect(forbidden.headers.get("ratelimit")).toBe(`"second";r=1;t=0`);
    const usage = await admin("GET", `/keys/${id}`);
    expect(usage.json.counters.limits).toEqual([
      { window: "second", limit: 1, remaining: 1, reset: 0 },
      { window: "minute", limit: 10, remaining: 9, reset: 0 },
      { window: "day", limit: 300, remaining: 299, reset: 0 },
    ]);
  });

  it("sends X-Credits-Remaining after each request of a key with credits", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { credits: { remaining: 10 } });
    expect((await call("/api/expensive", { key })).headers.get("x-credits-remaining")).toBe("5");
    expect((await call("/api/free", { key })).headers.get("x-credits-remaining")).toBe("5");
    expect((await call("/api/products", { key })).headers.get("x-credits-remaining")).toBe("4");
    const refused = await call("/api/expensive", { key });
    await expectProblem(refused, 429, "credits_exhausted");
    expect(refused.headers.get("retry-after")).toBeNull();
    expect(refused.headers.get("x-credits-remaining")).toBe("4");
  });
});

describe("plans", () => {
  it("answers a spent quota with the plan's quotaStatus (409) and Retry-After until UTC midnight", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { plan: "metered", limits: { minute: 100 } });
    const evening = Date.UTC(2027, 2, 3, 23, 0, 0);
    await setClock(key, evening);
    for (let i = 0; i < 20; i++) expect((await call("/api/products", { key })).status).toBe(200);
    const spent = await call("/api/products", { key });
    await expectProblem(spent, 409, "quota_exceeded");
    expect(spent.headers.get("retry-after")).toBe("3600");
    await setClock(key, Date.UTC(2027, 2, 4, 0, 0, 0));
    expect((await call("/api/products", { key })).status).toBe(200);
  });

  it("takes each window from the key when positive, else from the plan of the chain", async () => {
    const ws = await createWorkspace("chain", "metered");
    const { key } = await createKey(ws, { limits: { minute: 3, day: 0 } });
    const response = await call("/api/products", { key });
    expect(response.headers.get("ratelimit-policy")).toBe(`"minute";q=3;w=60, "day";q=20;w=86400`);
    expect(((await response.json()) as Json).headers["x-portcullis-plan"]).toBe("metered");
  });

  it("falls through a plan name the policy no longer has", async () => {
    const ws = await createWorkspace("w", "metered");
    const { key } = await createKey(ws, { plan: "burst" });
    const withoutBurst = JSON.stringify({ ...TEST_POLICY, plans: { metered: TEST_POLICY.plans.metered } });
    const response = await direct(
      new Request("https://h.test/api/products", { headers: { Authorization: `Bearer ${key}` } }),
      {
        POLICY: withoutBurst,
      },
    );
    expect(response.headers.get("ratelimit-policy")).toBe(`"minute";q=10;w=60, "day";q=20;w=86400`);
  });
});

describe("credits", () => {
  it("refills at the start of each UTC day", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, {
      credits: { remaining: 5, refill: { interval: "day", amount: 10 } },
    });
    const day = Date.now();
    await setClock(key, day);
    expect((await call("/api/expensive", { key })).status).toBe(200);
    const refused = await call("/api/expensive", { key });
    await expectProblem(refused, 429, "credits_exhausted");
    const midnight = Date.UTC(
      new Date(day).getUTCFullYear(),
      new Date(day).getUTCMonth(),
      new Date(day).getUTCDate() + 1,
    );
    expect(refused.headers.get("retry-after")).toBe(String(Math.ceil((midnight - day) / 1000)));
    await setClock(key, midnight);
    const refilled = await call("/api/expensive", { key });
    expect(refilled.status).toBe(200);
    expect(refilled.headers.get("x-credits-remaining")).toBe("5");
  });

  it("changes credits at once through the admin API, audited", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { credits: { remaining: 4 } });
    await expectProblem(await call("/api/expensive", { key }), 429, "credits_exhausted");
    const raised = await admin("POST", `/keys/${id}/credits`, { op: "increment", amount: 6 });
    expect(raised.status).toBe(200);
    expect(raised.json.credits).toEqual({ remaining: 10, refill: null });
    expect((await call("/api/expensive", { key })).headers.get("x-credits-remaining")).toBe("5");
    expect(
      (await admin("POST", `/keys/${id}/credits`, { op: "decrement", amount: 3 })).json.credits.remaining,
    ).toBe(2);
    await expectProblem(await call("/api/expensive", { key }), 429, "credits_exhausted");
    const set = await admin("POST", `/keys/${id}/credits`, {
      op: "set",
      amount: 5,
      refill: { interval: "month", amount: 50 },
    });
    expect(set.json.credits).toEqual({ remaining: 5, refill: { interval: "month", amount: 50 } });
    expect((await call("/api/expensive", { key })).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE target_id = ?1 AND action = 'key.credits'",
    )
      .bind(id)
      .first<{ n: number }>();
    expect(audit?.n).toBe(3);
    for (const body of [{ op: "double", amount: 1 }, { op: "set", amount: -1 }, { op: "set" }]) {
      expect((await admin("POST", `/keys/${id}/credits`, body)).status).toBe(400);
    }
    await admin("POST", `/keys/${id}/revoke`);
    const revoked = await admin("POST", `/keys/${id}/credits`, { op: "set", amount: 1 });
    expect([revoked.status, revoked.json.code]).toEqual([409, "key_revoked"]);
  });
});

describe("self", () => {
  it("answers the key's limits and credits, is never refused by them, and consumes nothing", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { limits: { minute: 2 }, credits: { remaining: 2 } });
    expect((await call("/api/products", { key })).status).toBe(200);
    expect((await call("/api/products", { key })).status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 429, "rate_limited");
    for (const path of ["/_portcullis/v1/self", "/api/me"]) {
      const response = await call(path, { key });
      expect(response.status, path).toBe(200);
      expect(await response.json()).toEqual({
        keyId: id,
        workspaceId: ws,
        type: "server",
        plan: null,
        expiresAt: null,
        limits: [{ window: "minute", limit: 2, remaining: 0, reset: expect.any(Number) }],
        credits: { remaining: 0, refill: null },
      });
    }
  });

  it("applies rows 1-10 to the self endpoint", async () => {
    await expectProblem(await call("/_portcullis/v1/self"), 401, "missing_credential");
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    await admin("POST", `/keys/${id}/revoke`);
    await expectProblem(await call("/_portcullis/v1/self", { key }), 401, "key_revoked");
  });
});

describe("verify API", () => {
  it("reports the tightest window and the credits, and consumes like a proxied request", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { limits: { minute: 3 }, credits: { remaining: 10 } });
    const verify = async (body: Json) => {
      const response = await direct(
        new Request("https://h.test/_portcullis/v1/verify", {
          method: "POST",
          headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
      return (await response.json()) as Json;
    };
    expect(await verify({ key, cost: 4 })).toMatchObject({
      valid: true,
      ratelimit: { window: "minute", limit: 3, remaining: 2, reset: 0 },
      credits: { remaining: 6 },
    });
    expect(await verify({ key, cost: 7 })).toMatchObject({
      valid: false,
      code: "credits_exhausted",
      credits: { remaining: 6 },
    });
    expect(await verify({ key, cost: 0 })).toMatchObject({ valid: true, ratelimit: { remaining: 1 } });
  });
});

describe("a lowered rate limit", () => {
  /** Sends `count` requests of `key` one after another (each asks the key's object); the statuses seen. */
  async function sequential(key: string, count: number): Promise<Record<number, number>> {
    const responses: Response[] = [];
    for (let i = 0; i < count; i++) {
      const response = await call("/api/products", { key, leases: false });
      await response.body?.cancel();
      responses.push(response);
    }
    return statuses(responses);
  }

  it("counts what the key used in the hour against its new, lower limit", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { limits: { hour: 100 } });
    expect(await sequential(key, 50)).toEqual({ 200: 50 });
    const patched = await admin("PATCH", `/keys/${id}`, { limits: { hour: 10 } });
    expect(patched.status, patched.text).toBe(200);
    expect(await sequential(key, 10)).toEqual({ 429: 10 });
    // Raised again, the 50 used still count: 50 of 60 are left.
    expect((await admin("PATCH", `/keys/${id}`, { limits: { hour: 60 } })).status).toBe(200);
    expect(await sequential(key, 12)).toEqual({ 200: 10, 429: 2 });
  });

  it("counts what an owner's keys used in the hour against the owner's new, lower limit", async () => {
    const ws = await createWorkspace();
    const owner = `lowered-${crypto.randomUUID().slice(0, 8)}`;
    const put = (hour: number) => admin("PUT", `/owners/${owner}?workspaceId=${ws}`, { limits: { hour } });
    expect((await put(100)).status).toBe(200);
    const first = await createKey(ws, { ownerId: owner });
    const second = await createKey(ws, { ownerId: owner });
    expect(await sequential(first.key, 30)).toEqual({ 200: 30 });
    expect(await sequential(second.key, 20)).toEqual({ 200: 20 });
    const lowered = await put(10);
    expect(lowered.status, lowered.text).toBe(200);
    expect(lowered.json.limits).toEqual([
      { window: "hour", limit: 10, remaining: 0, reset: expect.any(Number) },
    ]);
    expect(await sequential(first.key, 5)).toEqual({ 429: 5 });
    expect(await sequential(second.key, 5)).toEqual({ 429: 5 });
  });
});
