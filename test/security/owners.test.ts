/**
 * Attack class: owners (docs/consistency.md#owners). An admin key reaches only its own workspace's owners on every
 * owner route; an owner's object that fails denies the owner's keys (503, nothing counted),
 * never lets them through uncounted past the owner's credits; owner ids that are names of
 * Object.prototype are owners like any other.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { OwnerGateApi } from "../../src/key-client/owner-client";
import type { KeyGate } from "../../src/key-object/key-gate";
import { TEST_POLICY } from "../fixtures/policy";
import { OBJECT_DOWN } from "../worker/faults";
import {
  admin,
  BASE,
  call,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  keyObject,
} from "../worker/helpers";

async function tenants() {
  const mine = await createWorkspace("mine");
  const theirs = await createWorkspace("theirs");
  const operator = await createKey(mine, { type: "admin", permissions: ["*"] });
  const victim = await createKey(theirs, { ownerId: "acme" });
  const put = await admin("PUT", `/owners/acme?workspaceId=${theirs}`, { limits: { minute: 50 } });
  expect(put.status).toBe(200);
  return { mine, theirs, operator, victim };
}

/** Makes the key's object see a failing owner's object, until the returned function is called. */
async function failOwnerOf(keyId: string): Promise<() => Promise<void>> {
  const failing: OwnerGateApi = {
    configure: () => Promise.reject(new Error(OBJECT_DOWN)),
    meter: () => Promise.reject(new Error(OBJECT_DOWN)),
    inspect: () => Promise.reject(new Error(OBJECT_DOWN)),
    release: () => Promise.reject(new Error(OBJECT_DOWN)),
  };
  let real: KeyGate["owners"] | null = null;
  await runInDurableObject(keyObject(keyId), (instance: KeyGate) => {
    real = instance.owners;
    instance.owners = () => failing;
  });
  return () =>
    runInDurableObject(keyObject(keyId), (instance: KeyGate) => {
      if (real) instance.owners = real;
    });
}

describe("another workspace's owners do not exist for an admin key", () => {
  it("answers 404 on every owner route and changes nothing", async () => {
    const { operator, victim, theirs } = await tenants();
    const calls: [string, string, unknown?][] = [
      ["PUT", `/owners/acme?workspaceId=${theirs}`, { limits: { minute: 1 } }],
      ["GET", `/owners/acme?workspaceId=${theirs}`],
      ["GET", `/owners?workspaceId=${theirs}`],
      ["POST", `/owners/acme/revoke?workspaceId=${theirs}`],
    ];
    for (const [method, path, body] of calls) {
      const answer = await admin(method, path, body, operator.key);
      expect([answer.status, answer.json.code], `${method} ${path}`).toEqual([404, "not_found"]);
      expect(answer.text).not.toContain("acme");
    }
    // Without a workspaceId an admin key acts on its own workspace: its owner "acme" is another.
    expect((await admin("POST", "/owners/acme/revoke", undefined, operator.key)).json).toEqual({
      revoked: 0,
    });
    expect((await admin("GET", "/owners", undefined, operator.key)).json.items).toEqual([]);
    // Leasing off: the owner's counters then show exactly this one request.
    expect((await call("/api/products", { key: victim.key, leases: false })).status).toBe(200);
    const owner = await admin("GET", `/owners/acme?workspaceId=${theirs}`);
    expect(owner.json).toMatchObject({
      limits: [{ window: "minute", limit: 50, remaining: 49 }],
      keyCount: 1,
    });
  });
});

describe("an owner's object that fails", () => {
  it("denies the owner's keys with 503 and counts nothing", async () => {
    const ws = await createWorkspace();
    const key = await createKey(ws, { ownerId: "fails", limits: { minute: 5 } });
    await admin("PUT", `/owners/fails?workspaceId=${ws}`, { limits: { minute: 5 } });
    const restore = await failOwnerOf(key.id);
    try {
      const refused = await call("/api/products", { key: key.key, leases: false });
      await expectProblem(refused, 503, "unavailable");
      expect(refused.headers.get("retry-after")).not.toBeNull();
    } finally {
      await restore();
    }
    const ok = await call("/api/products", { key: key.key, leases: false });
    expect(ok.headers.get("ratelimit")).toBe('"minute";r=4;t=0');
  });

  it("fails closed for a key spending its owner's credits even with limiterFailure open", async () => {
    const ws = await createWorkspace();
    const key = await createKey(ws, { ownerId: "paid" });
    await admin("PUT", `/owners/paid?workspaceId=${ws}`, { credits: { remaining: 10 } });
    const open = { POLICY: JSON.stringify({ ...TEST_POLICY, limiterFailure: "open", leases: { ms: 0 } }) };
    const restore = await failOwnerOf(key.id);
    try {
      const refused = await direct(
        new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key.key}` } }),
        open,
      );
      await expectProblem(refused, 503, "unavailable");
    } finally {
      await restore();
    }
    expect((await admin("GET", `/owners/paid?workspaceId=${ws}`)).json.credits.remaining).toBe(10);
  });
});

describe("owner ids named after Object.prototype", () => {
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])(
    "treats %s as an ordinary owner",
    async (name) => {
      const ws = await createWorkspace();
      const never = await admin("GET", `/owners/${name}?workspaceId=${ws}`);
      expect(never.json).toEqual({
        ownerId: name,
        workspaceId: ws,
        limits: [],
        credits: null,
        roles: [],
        rolesAsOf: null,
        keyCount: 0,
      });
      const key = await createKey(ws, { ownerId: name });
      const other = await createKey(ws, { ownerId: "plain" });
      const put = await admin("PUT", `/owners/${name}?workspaceId=${ws}`, { limits: { minute: 1 } });
      expect(put.json).toMatchObject({
        ownerId: name,
        limits: [{ window: "minute", limit: 1 }],
        keyCount: 1,
      });
      expect((await call("/api/products", { key: key.key })).status).toBe(200);
      await expectProblem(await call("/api/products", { key: key.key }), 429, "rate_limited");
      // Another owner's key is not touched by it.
      expect((await call("/api/products", { key: other.key })).headers.get("ratelimit-policy")).toBeNull();
      expect((await admin("GET", `/owners?workspaceId=${ws}`)).json.items).toEqual([
        { ownerId: name, limits: { minute: 1 }, credits: null, keyCount: 1 },
      ]);
      expect((await admin("POST", `/owners/${name}/revoke?workspaceId=${ws}`)).json).toEqual({ revoked: 1 });
      await expectProblem(await call("/api/products", { key: key.key }), 401, "key_revoked");
      expect((await call("/api/products", { key: other.key })).status).toBe(200);
    },
  );
});
