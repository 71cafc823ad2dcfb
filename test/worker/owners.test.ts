/**
 * Owners (docs/consistency.md#owners): the admin routes, and counting shared by all keys of one owner: exact under
 * concurrency, in both the key's windows and the owner's or in neither, named `owner-<window>`
 * in the headers, moved with the key's `ownerId`, and an owner revoke in force for every key
 * before its response.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ROOT_TOKEN } from "../fixtures/policy";
import {
  admin,
  BASE,
  call,
  countingDecisions,
  createKey,
  createWorkspace,
  direct,
  expectProblem,
  type Json,
} from "./helpers";

let owners = 0;
/** A fresh owner id, so that tests share no owner. */
function ownerName(): string {
  owners += 1;
  return `customer-${owners}-${crypto.randomUUID().slice(0, 8)}`;
}

async function putOwner(workspaceId: string, ownerId: string, body: Json) {
  const answer = await admin("PUT", `/owners/${ownerId}?workspaceId=${workspaceId}`, body);
  expect(answer.status, answer.text).toBe(200);
  return answer.json;
}

async function getOwner(workspaceId: string, ownerId: string) {
  const answer = await admin("GET", `/owners/${ownerId}?workspaceId=${workspaceId}`);
  expect(answer.status, answer.text).toBe(200);
  return answer.json;
}

function remainingOf(owner: Json, window: string): number {
  return owner.limits.find((entry: Json) => entry.window === window)?.remaining;
}

async function statusesOf(responses: Promise<Response>[]): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const response of await Promise.all(responses)) {
    counts[response.status] = (counts[response.status] ?? 0) + 1;
    await response.body?.cancel();
  }
  return counts;
}

function keyed(key: string): Request {
  return new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } });
}

async function self(key: string): Promise<Json> {
  const response = await call("/api/me", { key });
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

describe("owner routes", () => {
  it("answers an owner never set with no limits, then what PUT set with live counters and key count", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    expect(await getOwner(ws, owner)).toEqual({
      ownerId: owner,
      workspaceId: ws,
      limits: [],
      credits: null,
      roles: [],
      rolesAsOf: null,
      keyCount: 0,
    });
    await createKey(ws, { ownerId: owner });
    await createKey(ws, { ownerId: owner });
    const put = await putOwner(ws, owner, {
      limits: { minute: 50, day: 0 },
      credits: { remaining: 100, refill: { interval: "month", amount: 100 } },
    });
    expect(put).toEqual({
      ownerId: owner,
      workspaceId: ws,
      limits: [{ window: "minute", limit: 50, remaining: 50, reset: 0 }],
      credits: { remaining: 100, refill: { interval: "month", amount: 100 } },
      roles: [],
      rolesAsOf: null,
      keyCount: 2,
    });
    // PUT replaces: what is absent is gone.
    const replaced = await putOwner(ws, owner, { limits: { hour: 7 } });
    expect(replaced).toMatchObject({ limits: [{ window: "hour", limit: 7, remaining: 7 }], credits: null });
  });

  it("lists the owners set, by owner id, with a cursor", async () => {
    const ws = await createWorkspace();
    await putOwner(ws, "b-owner", { limits: { minute: 5 } });
    await putOwner(ws, "a-owner", { credits: { remaining: 9 } });
    await putOwner(ws, "c-owner", {});
    await createKey(ws, { ownerId: "a-owner" });
    const first = await admin("GET", `/owners?workspaceId=${ws}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.items).toEqual([
      { ownerId: "a-owner", limits: {}, credits: { remaining: 9, refill: null }, keyCount: 1 },
      { ownerId: "b-owner", limits: { minute: 5 }, credits: null, keyCount: 0 },
    ]);
    const second = await admin("GET", `/owners?workspaceId=${ws}&limit=2&cursor=${first.json.cursor}`);
    expect(second.json).toEqual({
      items: [{ ownerId: "c-owner", limits: {}, credits: null, keyCount: 0 }],
      cursor: null,
    });
  });

  it("refuses bad input with 400 and stores nothing", async () => {
    const ws = await createWorkspace();
    const bad: [string, string, unknown?][] = [
      ["PUT", `/owners/...?workspaceId=${ws}`, {}],
      ["PUT", `/owners/${"x".repeat(129)}?workspaceId=${ws}`, {}],
      ["PUT", `/owners/a%20b?workspaceId=${ws}`, {}],
      ["PUT", `/owners/ok?workspaceId=${ws}`, { limits: { minute: -1 } }],
      ["PUT", `/owners/ok?workspaceId=${ws}`, { limits: { week: 1 } }],
      ["PUT", `/owners/ok?workspaceId=${ws}`, { credits: { remaining: 1.5 } }],
      ["PUT", `/owners/ok?workspaceId=${ws}`, { other: 1 }],
      ["PUT", "/owners/ok", {}],
      ["GET", "/owners/ok"],
      ["GET", "/owners"],
      ["POST", "/owners/ok/revoke"],
      ["GET", `/owners?workspaceId=${ws}&cursor=nonsense`],
    ];
    for (const [method, path, body] of bad) {
      const answer = await admin(method, path, body);
      expect([answer.status, answer.json.code], `${method} ${path}`).toEqual([400, "bad_request"]);
    }
    expect((await admin("GET", `/owners?workspaceId=${ws}`)).json.items).toEqual([]);
  });

  it("records owner.update with the settings before and after, and owner.revoke with the count", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    await putOwner(ws, owner, { limits: { minute: 5 } });
    await putOwner(ws, owner, { credits: { remaining: 3 } });
    await createKey(ws, { ownerId: owner });
    await admin("POST", `/owners/${owner}/revoke?workspaceId=${ws}`);
    const { json } = await admin("GET", `/audit?workspaceId=${ws}`);
    const entries = json.items.filter((entry: Json) => entry.targetId === owner);
    expect(entries.map((entry: Json) => [entry.action, entry.before, entry.after])).toEqual([
      ["owner.revoke", null, { revoked: 1 }],
      [
        "owner.update",
        { limits: { minute: 5 }, credits: null },
        { limits: {}, credits: { remaining: 3, refill: null } },
      ],
      ["owner.update", null, { limits: { minute: 5 }, credits: null }],
    ]);
    expect(entries[0].actor).toEqual({ type: "root" });
  });
});

describe("counting shared by an owner's keys", () => {
  it("lets exactly N of 4N concurrent requests through an owner limit of N shared by 3 keys", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const keys = await Promise.all([1, 2, 3].map(() => createKey(ws, { ownerId: owner })));
    await putOwner(ws, owner, { limits: { minute: 12 } });
    const requests = Array.from({ length: 48 }, (_, i) =>
      call("/api/products", { key: keys[i % 3]?.key as string }),
    );
    expect(await statusesOf(requests)).toEqual({ 200: 12, 429: 36 });
    expect(remainingOf(await getOwner(ws, owner), "minute")).toBe(0);
  });

  it("spends the owner's credits exactly, never overdrawn, for keys without credits of their own", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const keys = await Promise.all([1, 2, 3].map(() => createKey(ws, { ownerId: owner })));
    await putOwner(ws, owner, { credits: { remaining: 25 } });
    // Each costs 5: exactly 5 pass.
    const requests = Array.from({ length: 20 }, (_, i) =>
      call("/api/expensive", { key: keys[i % 3]?.key as string }),
    );
    expect(await statusesOf(requests)).toEqual({ 200: 5, 429: 15 });
    expect((await getOwner(ws, owner)).credits).toEqual({ remaining: 0, refill: null });
  });

  it("charges a key with credits of its own its own balance, exactly, and the owner's windows", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const mine = await createKey(ws, { ownerId: owner, credits: { remaining: 4 } });
    // An hour window: one request drains from it every 36 s, not every 0.6 s as a minute's
    // would, so a slow machine reads the four counted.
    await putOwner(ws, owner, { limits: { hour: 100 }, credits: { remaining: 50 } });
    const requests = Array.from({ length: 16 }, () => call("/api/products", { key: mine.key }));
    expect(await statusesOf(requests)).toEqual({ 200: 4, 429: 12 });
    const detail = await getOwner(ws, owner);
    expect(detail.credits.remaining).toBe(50);
    expect(remainingOf(detail, "hour")).toBe(96);
    expect((await admin("GET", `/keys/${mine.id}`)).json.credits.remaining).toBe(0);
  });

  it("moves no owner counter for a request the key's own window refuses", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const narrow = await createKey(ws, { ownerId: owner, limits: { minute: 2 } });
    await putOwner(ws, owner, { limits: { minute: 10 }, credits: { remaining: 10 } });
    const requests = Array.from({ length: 6 }, () => call("/api/products", { key: narrow.key }));
    expect(await statusesOf(requests)).toEqual({ 200: 2, 429: 4 });
    const detail = await getOwner(ws, owner);
    expect(remainingOf(detail, "minute")).toBe(8);
    expect(detail.credits.remaining).toBe(8);
  });

  it("moves no key counter for a request the owner's window refuses", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const wide = await createKey(ws, { ownerId: owner, limits: { minute: 10 } });
    await putOwner(ws, owner, { limits: { minute: 2 } });
    const requests = Array.from({ length: 6 }, () => call("/api/products", { key: wide.key }));
    expect(await statusesOf(requests)).toEqual({ 200: 2, 429: 4 });
    const { limits } = await self(wide.key);
    expect(limits).toEqual([
      { window: "minute", limit: 10, remaining: 8, reset: 0 },
      { window: "owner-minute", limit: 2, remaining: 0, reset: expect.any(Number) },
    ]);
  });

  it("answers a spent owner quota with the key's plan's quotaStatus", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const key = await createKey(ws, { ownerId: owner, plan: "metered" });
    await putOwner(ws, owner, { limits: { day: 1 } });
    expect((await call("/api/products", { key: key.key })).status).toBe(200);
    const refused = await call("/api/products", { key: key.key });
    await expectProblem(refused, 409, "quota_exceeded");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("leases of an owned key", () => {
  it("come from the owner's object, so N of 4N concurrent requests over its keys pass, and most need no object call", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const N = 60;
    await putOwner(ws, owner, { limits: { hour: N }, credits: { remaining: 10_000 } });
    const keys = await Promise.all([1, 2, 3].map(() => createKey(ws, { ownerId: owner })));
    const counting = countingDecisions(env.KEY_GATE);
    const responses = Array.from({ length: 4 * N }, (_, i) =>
      direct(keyed((keys[i % 3] as { key: string }).key), { KEY_GATE: counting.namespace }),
    );
    expect(await statusesOf(responses)).toEqual({ 200: N, 429: 3 * N });
    expect(remainingOf(await getOwner(ws, owner), "hour")).toBe(0);
    // Every request that passed was charged to the owner's balance exactly once.
    expect((await getOwner(ws, owner)).credits.remaining).toBe(10_000 - N);

    const roomy = ownerName();
    await putOwner(ws, roomy, { limits: { hour: 100_000 } });
    const busy = await createKey(ws, { ownerId: roomy });
    const sequential = countingDecisions(env.KEY_GATE);
    for (let i = 0; i < 40; i++) {
      expect((await direct(keyed(busy.key), { KEY_GATE: sequential.namespace })).status).toBe(200);
    }
    expect(sequential.decisions()).toBeLessThan(10);
    const leased = await direct(keyed(busy.key));
    expect(leased.headers.get("ratelimit-policy")).toBe('"owner-hour";q=100000;w=3600');
  });
});

describe("headers of an owned key", () => {
  it("names owner windows owner-<window>, the tightest in RateLimit, the key's own on a tie", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const tied = await createKey(ws, { ownerId: owner, limits: { minute: 5 } });
    await putOwner(ws, owner, { limits: { minute: 5, hour: 100 } });
    const first = await call("/api/products", { key: tied.key });
    expect(first.headers.get("ratelimit-policy")).toBe(
      '"minute";q=5;w=60, "owner-minute";q=5;w=60, "owner-hour";q=100;w=3600',
    );
    expect(first.headers.get("ratelimit")).toBe('"minute";r=4;t=0');

    const other = await createKey(ws, { ownerId: owner, limits: { minute: 5 } });
    const second = await call("/api/products", { key: other.key });
    expect(second.headers.get("ratelimit")).toBe('"owner-minute";r=3;t=0');

    const verified = await exports.default.fetch(
      new Request(`${BASE}/_portcullis/v1/verify`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ key: other.key }),
      }),
    );
    expect(((await verified.json()) as Json).ratelimit).toEqual({
      window: "owner-minute",
      limit: 5,
      remaining: 2,
      reset: 0,
    });
  });

  it("shows in X-Credits-Remaining the balance that was charged", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const spendsOwner = await createKey(ws, { ownerId: owner });
    const spendsOwn = await createKey(ws, { ownerId: owner, credits: { remaining: 7 } });
    await putOwner(ws, owner, { credits: { remaining: 30 } });
    expect((await call("/api/expensive", { key: spendsOwner.key })).headers.get("x-credits-remaining")).toBe(
      "25",
    );
    expect((await call("/api/expensive", { key: spendsOwn.key })).headers.get("x-credits-remaining")).toBe(
      "2",
    );
    expect((await self(spendsOwner.key)).credits).toEqual({ remaining: 25, refill: null });
  });
});

describe("owner revoke", () => {
  it("is in force for every key before its response, under load, and acts once", async () => {
    const ws = await createWorkspace();
    const owner = ownerName();
    const keys = await Promise.all([1, 2, 3].map(() => createKey(ws, { ownerId: owner })));
    await createKey(ws, { ownerId: "someone-else" });
    let running = true;
    const load = Promise.all(
      keys.map(async ({ key }) => {
        while (running) await (await call("/api/products", { key })).body?.cancel();
      }),
    );
    const revoke = await admin("POST", `/owners/${owner}/revoke?workspaceId=${ws}`);
    const after = await Promise.all(keys.map(({ key }) => call("/api/products", { key })));
    running = false;
    await load;
    expect(revoke).toMatchObject({ status: 200, json: { revoked: 3 } });
    for (const response of after) await expectProblem(response, 401, "key_revoked");
    // One `owner.revoked` event for the whole revoke, and no `key.revoked` per key.
    const events = (await admin("GET", `/events?workspaceId=${ws}&limit=100`)).json.items as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(events.filter((event) => event.type === "owner.revoked").map((event) => event.data)).toEqual([
      { ownerId: owner, workspaceId: ws, revoked: 3 },
    ]);
    expect(events.filter((event) => event.type === "key.revoked")).toEqual([]);

    expect((await admin("POST", `/owners/${owner}/revoke?workspaceId=${ws}`)).json).toEqual({ revoked: 0 });
    const later = await createKey(ws, { ownerId: owner });
    expect((await call("/api/products", { key: later.key })).status).toBe(200);
    expect((await getOwner(ws, owner)).keyCount).toBe(1);
  });
});

describe("changing a key's ownerId", () => {
  it("moves its counting to the new owner, carrying the key's own windows along", async () => {
    const ws = await createWorkspace();
    const [first, second] = [ownerName(), ownerName()];
    const key = await createKey(ws, { ownerId: first, limits: { minute: 5 } });
    await putOwner(ws, first, { limits: { minute: 3 } });
    await putOwner(ws, second, { limits: { minute: 10 } });
    const before = Array.from({ length: 4 }, () => call("/api/products", { key: key.key }));
    expect(await statusesOf(before)).toEqual({ 200: 3, 429: 1 });

    expect((await admin("PATCH", `/keys/${key.id}`, { ownerId: second })).status).toBe(200);
    const after = Array.from({ length: 4 }, () => call("/api/products", { key: key.key }));
    // The key's own minute has 2 left of 5; the new owner counts them.
    expect(await statusesOf(after)).toEqual({ 200: 2, 429: 2 });
    expect(remainingOf(await getOwner(ws, second), "minute")).toBe(8);
    expect(remainingOf(await getOwner(ws, first), "minute")).toBe(0);

    expect((await admin("PATCH", `/keys/${key.id}`, { ownerId: null })).status).toBe(200);
    const alone = await call("/api/products", { key: key.key });
    await expectProblem(alone, 429, "rate_limited");
    expect(alone.headers.get("ratelimit-policy")).toBe('"minute";q=5;w=60');
  });
});
