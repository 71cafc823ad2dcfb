/**
 * `limiterFailure` (docs/decisions.md): "closed" denies when a key's Durable Object fails; "open" lets a
 * key that D1 shows active through, uncounted, but never one with credits. An overloaded object
 * is 503 with Retry-After either way for keys D1 cannot vouch for.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { admin, BASE, createKey, createWorkspace, direct, expectProblem } from "./helpers";

const overloaded = {
  idFromName: (name: string) => env.KEY_GATE.idFromName(name),
  get: () =>
    new Proxy(
      {},
      {
        get: () => () => Promise.reject(new Error("Durable Object is overloaded. Too many requests queued.")),
      },
    ),
} as unknown as typeof env.KEY_GATE;

function request(key: string, method = "GET") {
  return new Request(`${BASE}/api/products`, { method, headers: { Authorization: `Bearer ${key}` } });
}

const open = { POLICY: JSON.stringify({ ...TEST_POLICY, limiterFailure: "open" }), KEY_GATE: overloaded };

describe("limiter failure", () => {
  it("closed (the default): an overloaded object is 503 unavailable with Retry-After", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { limits: { minute: 5 } });
    const response = await direct(request(key), { KEY_GATE: overloaded });
    await expectProblem(response, 503, "unavailable");
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("open: a key D1 shows active passes uncounted; rows 5-10 still apply", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { limits: { minute: 1 }, permissions: ["products:read"] });
    for (let i = 0; i < 3; i++) {
      const response = await direct(request(key), open);
      expect(response.status).toBe(200);
      expect(response.headers.get("ratelimit")).toBeNull();
    }
    await expectProblem(await direct(request(key, "POST"), open), 403, "insufficient_permissions");
    const revoked = await createKey(ws);
    await admin("POST", `/keys/${revoked.id}/revoke`);
    await expectProblem(await direct(request(revoked.key), open), 401, "key_revoked");
  });

  it("open: credits always fail closed", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { credits: { remaining: 100 } });
    await expectProblem(await direct(request(key), open), 503, "unavailable");
  });
});
