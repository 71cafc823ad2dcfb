/**
 * Events and webhooks (docs/events.md): every event type raised by the change or the counted
 * request behind it, with its data and never a secret; the once-per-crossing rules; the queue's
 * consumer (signatures, retries with backoff, failed after the last attempt); a failing
 * producer that loses nothing; GET /events with delivery status, for its workspace only.
 */
import { createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { KeyGate } from "../../src/key-object/key-gate";
import type { PortcullisEvent } from "../../src/keys/events";
import { STALLED_MARGIN_MS } from "../../src/services/events";
import { MAX_ATTEMPTS, RETRY_DELAYS_S } from "../../src/services/webhook-delivery";
import { ROOT_TOKEN } from "../fixtures/policy";
import { githubSigner, leak, leakBindings, sendReport } from "./github-reports";
import {
  admin,
  adminRequest,
  BASE,
  createKey,
  createWorkspace,
  direct,
  type Json,
  keyObject,
} from "./helpers";
import { consume, eventsOfKey, listEvents, receiver, verified, withWebhooks } from "./webhooks";

afterEach(() => {
  vi.restoreAllMocks();
});

const HOOK = "https://hooks.example.test/portcullis";
const plain = withWebhooks([{ url: HOOK }], { creditsLowThreshold: 3 });

/** A request of the protected API under `setup`'s policy. */
function callWith(setup: typeof plain, path: string, key: string): Promise<Response> {
  return direct(
    new Request(`${BASE}${path}`, { headers: { Authorization: `Bearer ${key}` } }),
    setup.bindings,
  );
}

/** Runs the key object's alarm, which moves its outbox to D1, then lists the key's events. */
async function flushed(keyId: string): Promise<PortcullisEvent[]> {
  await runDurableObjectAlarm(keyObject(keyId));
  return eventsOfKey(keyId);
}

function types(events: PortcullisEvent[]): string[] {
  return events.map((event) => event.type);
}

const identity = (record: Json) => ({
  keyId: record.id,
  workspaceId: record.workspaceId,
  ownerId: record.ownerId,
  type: record.type,
  start: record.start,
});

describe("admin events", () => {
  it("create, patch, credits, disable, revoke and delete raise their events with the key's identity and no secret", async () => {
    const ws = await createWorkspace();
    const { id, key, record } = await createKey(ws, { ownerId: "cust_1", credits: { remaining: 10 } });
    expect((await admin("PATCH", `/keys/${id}`, { name: "renamed" })).status).toBe(200);
    expect((await admin("POST", `/keys/${id}/credits`, { op: "increment", amount: 5 })).status).toBe(200);
    expect((await admin("PATCH", `/keys/${id}`, { enabled: false })).status).toBe(200);
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    expect((await admin("DELETE", `/keys/${id}`)).status).toBe(204);

    const events = await eventsOfKey(id);
    expect(types(events)).toEqual([
      "key.created",
      "key.updated",
      "key.updated",
      "key.updated",
      "key.revoked",
      "key.deleted",
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ id: expect.stringMatching(/^evt_[A-Za-z0-9]{20}$/), workspaceId: ws });
      expect(event.data).toMatchObject(identity(record));
    }
    expect(events.map((event) => event.data.changed)).toEqual([
      undefined,
      ["name"],
      ["credits"],
      ["enabled"],
      undefined,
      undefined,
    ]);
    expect(events[4]?.data.revokedAt).toEqual(expect.any(String));
    const text = JSON.stringify(events);
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(record.start.length));
  });

  it("import raises key.created; rotate raises key.rotated for the new key only", async () => {
    const ws = await createWorkspace();
    const imported = await admin("POST", "/keys/import", {
      workspaceId: ws,
      type: "legacy",
      key: "lg_importedvalue123",
    });
    expect(imported.status).toBe(201);
    expect(types(await eventsOfKey(imported.json.id))).toEqual(["key.created"]);

    const { id } = await createKey(ws);
    const rotated = await admin("POST", `/keys/${id}/rotate`, {});
    expect(rotated.status).toBe(201);
    expect(types(await eventsOfKey(id))).toEqual(["key.created"]);
    const [event, ...others] = await eventsOfKey(rotated.json.id);
    expect(others).toEqual([]);
    expect(event).toMatchObject({
      type: "key.rotated",
      data: { ...identity(rotated.json), rotatedFrom: id },
    });
    expect(JSON.stringify(event)).not.toContain(rotated.json.key);
  });
});

describe("counter events, raised by the key's object with the request", () => {
  it("credits.low fires once per crossing of the threshold, again only after the balance was raised above it", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { credits: { remaining: 5 } });
    for (let n = 0; n < 3; n += 1) expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    expect(types(await flushed(id)).filter((type) => type === "credits.low")).toHaveLength(1);
    const [low] = (await eventsOfKey(id)).filter((event) => event.type === "credits.low");
    expect(low?.data).toMatchObject({ keyId: id, remaining: 3, threshold: 3 });

    expect((await admin("POST", `/keys/${id}/credits`, { op: "increment", amount: 10 })).status).toBe(200);
    for (let n = 0; n < 10; n += 1) expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    const lows = (await flushed(id)).filter((event) => event.type === "credits.low");
    expect(lows.map((event) => event.data.remaining)).toEqual([3, 3]);
  });

  it("credits.exhausted fires when a request brings the balance to 0, not again on the refusals that follow", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { credits: { remaining: 2 } });
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    for (let n = 0; n < 3; n += 1) expect((await callWith(plain, "/api/products", key)).status).toBe(429);
    const exhausted = (await flushed(id)).filter((event) => event.type === "credits.exhausted");
    expect(exhausted.map((event) => event.data)).toEqual([
      expect.objectContaining({ keyId: id, remaining: 0 }),
    ]);

    expect((await admin("POST", `/keys/${id}/credits`, { op: "set", amount: 1 })).status).toBe(200);
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    expect((await flushed(id)).filter((event) => event.type === "credits.exhausted")).toHaveLength(2);
  });

  it("a key counted by its owner raises its counter events too", async () => {
    const ws = await createWorkspace();
    const owner = `events-owner-${crypto.randomUUID().slice(0, 8)}`;
    expect(
      (await admin("PUT", `/owners/${owner}?workspaceId=${ws}`, { limits: { minute: 1000 } })).status,
    ).toBe(200);
    const { id, key } = await createKey(ws, {
      credits: { remaining: 2 },
      ownerId: owner,
      limits: { day: 3 },
    });
    const statuses = [];
    for (let n = 0; n < 4; n += 1) statuses.push((await callWith(plain, "/api/products", key)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const raised = types(await flushed(id));
    expect(raised).toContain("credits.exhausted");
  });

  it("credits.exhausted fires on the first refusal for credits, once", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { credits: { remaining: 4 } });
    for (let n = 0; n < 2; n += 1) expect((await callWith(plain, "/api/expensive", key)).status).toBe(429);
    const events = await flushed(id);
    expect(events.filter((event) => event.type === "credits.exhausted").map((event) => event.data)).toEqual([
      expect.objectContaining({ remaining: 4, cost: 5 }),
    ]);
    // 4 is above the threshold of 3: nothing was spent, so no credits.low.
    expect(types(events)).not.toContain("credits.low");
  });

  it("quota.exceeded fires on the first refusal of a day window only", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { limits: { day: 1 } });
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    for (let n = 0; n < 3; n += 1) expect((await callWith(plain, "/api/products", key)).status).toBe(429);
    const quota = (await flushed(id)).filter((event) => event.type === "quota.exceeded");
    expect(quota.map((event) => event.data)).toEqual([
      expect.objectContaining({ keyId: id, window: "day", limit: 1 }),
    ]);
  });

  it("ratelimit.exceeded fires at most once a minute per key", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { limits: { minute: 1 } });
    const stub = keyObject(id);
    const start = Date.now();
    await runInDurableObject(stub, (instance: KeyGate) => {
      instance.now = () => start;
    });
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    for (let n = 0; n < 3; n += 1) expect((await callWith(plain, "/api/products", key)).status).toBe(429);
    expect(types(await flushed(id)).filter((type) => type === "ratelimit.exceeded")).toHaveLength(1);

    await runInDurableObject(stub, (instance: KeyGate) => {
      instance.now = () => start + 59_000;
    });
    expect((await callWith(plain, "/api/products", key)).status).toBe(429);
    expect(types(await flushed(id)).filter((type) => type === "ratelimit.exceeded")).toHaveLength(1);

    await runInDurableObject(stub, (instance: KeyGate) => {
      instance.now = () => start + 120_000;
    });
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    expect((await callWith(plain, "/api/products", key)).status).toBe(429);
    const limited = (await flushed(id)).filter((event) => event.type === "ratelimit.exceeded");
    expect(limited.map((event) => event.data)).toEqual([
      expect.objectContaining({ window: "minute", limit: 1 }),
      expect.objectContaining({ window: "minute", limit: 1 }),
    ]);
  });

  it("a counter event waits in the object's storage, with the count, until the alarm moves it to D1", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { limits: { minute: 1 } });
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    expect((await callWith(plain, "/api/products", key)).status).toBe(429);
    const outbox = await runInDurableObject(keyObject(id), async (_instance: KeyGate, state) =>
      [...(await state.storage.list<PortcullisEvent>({ prefix: "outbox:" })).values()].map(
        (event) => event.type,
      ),
    );
    expect(outbox).toEqual(["ratelimit.exceeded"]);
    expect(types(await eventsOfKey(id))).toEqual(["key.created"]);
    expect(types(await flushed(id))).toEqual(["key.created", "ratelimit.exceeded"]);
  });
});

describe("the queue's consumer", () => {
  const two = withWebhooks([{ url: `${HOOK}/a` }, { url: `${HOOK}/b`, events: ["key.revoked"] }]);

  it("POSTs {type, timestamp, data} to each webhook that receives the event, signed as Standard Webhooks", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    const events = await eventsOfKey(id);
    const { posted } = receiver();
    const result = await consume(events, two);
    expect(result.retryMessages).toEqual([]);
    expect(
      posted.map((post) => [
        post.url,
        verified(post, two.secrets[post.url.endsWith("/a") ? "HOOK_SECRET_0" : "HOOK_SECRET_1"] as string)
          .type,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [`${HOOK}/a`, "key.created"],
        [`${HOOK}/a`, "key.revoked"],
        [`${HOOK}/b`, "key.revoked"],
      ]),
    );
    expect(posted).toHaveLength(3);
    const revoked = events[1] as PortcullisEvent;
    const post = posted.find((p) => p.url.endsWith("/b")) as (typeof posted)[number];
    expect(post.init.redirect).toBe("manual");
    expect(post.headers["webhook-id"]).toBe(revoked.id);
    expect(JSON.parse(post.body)).toEqual({
      type: "key.revoked",
      timestamp: new Date(revoked.at).toISOString(),
      data: revoked.data,
    });
    const page = await listEvents(two, `?workspaceId=${ws}`);
    expect(page.items.map((item: Json) => [item.type, item.deliveries])).toEqual([
      [
        "key.revoked",
        [
          { webhook: 0, status: "delivered", attempts: 1 },
          { webhook: 1, status: "delivered", attempts: 1 },
        ],
      ],
      ["key.created", [{ webhook: 0, status: "delivered", attempts: 1 }]],
    ]);
  });

  it("retries with backoff, only to the webhooks not yet delivered, each attempt signed anew under the same webhook-id", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    const revoked = (await eventsOfKey(id)).filter((event) => event.type === "key.revoked");
    const { posted } = receiver((url, n) => (url.endsWith("/b") && n < 3 ? 503 : 200));

    const first = await consume(revoked, two, 1);
    expect(first.retryMessages.map((m) => m.delaySeconds)).toEqual([RETRY_DELAYS_S[0]]);
    expect(RETRY_DELAYS_S[0]).toBeLessThanOrEqual(30);
    const second = await consume(revoked, two, 2);
    expect(second.retryMessages.map((m) => m.delaySeconds)).toEqual([RETRY_DELAYS_S[1]]);
    const third = await consume(revoked, two, 3);
    expect(third.retryMessages).toEqual([]);

    expect(posted.map((post) => post.url)).toEqual([`${HOOK}/a`, `${HOOK}/b`, `${HOOK}/b`, `${HOOK}/b`]);
    const toB = posted.filter((post) => post.url.endsWith("/b"));
    expect(new Set(toB.map((post) => post.headers["webhook-id"]))).toEqual(new Set([revoked[0]?.id]));
    for (const post of toB)
      expect(verified(post, two.secrets.HOOK_SECRET_1 as string)).toMatchObject({ type: "key.revoked" });
    const [item] = (await listEvents(two, `?workspaceId=${ws}&type=key.revoked`)).items;
    expect(item.deliveries).toEqual([
      { webhook: 0, status: "delivered", attempts: 1 },
      { webhook: 1, status: "delivered", attempts: 3 },
    ]);
  });

  it("the retries span more than an hour, and the last attempt marks the delivery failed and dead-letters the message", async () => {
    expect(RETRY_DELAYS_S.reduce((sum, delay) => sum + delay, 0)).toBeGreaterThanOrEqual(3600);
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const created = await eventsOfKey(id);
    const only = withWebhooks([{ url: `${HOOK}/down` }]);
    receiver(() => 500);
    const early = await consume(created, only, MAX_ATTEMPTS - 1);
    expect(early.retryMessages).toHaveLength(1);
    expect((await listEvents(only, `?workspaceId=${ws}`)).items[0].deliveries).toEqual([
      { webhook: 0, status: "pending", attempts: 1 },
    ]);
    const last = await consume(created, only, MAX_ATTEMPTS);
    // Past max_retries, a retried message goes to the dead-letter queue.
    expect(last.retryMessages).toHaveLength(1);
    expect((await listEvents(only, `?workspaceId=${ws}`)).items[0].deliveries).toEqual([
      { webhook: 0, status: "failed", attempts: 2 },
    ]);
    // A copy of the message sent again later changes nothing.
    const again = await consume(created, only, 1);
    expect(again.retryMessages).toEqual([]);
  });

  it("a webhook whose secret is not set is never sent to unsigned: the delivery is retried", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const setup = withWebhooks([{ url: HOOK, secretEnv: "NO_SUCH_SECRET" }]);
    const { posted } = receiver();
    const result = await consume(await eventsOfKey(id), setup);
    expect(posted).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
  });
});

describe("a failing queue loses nothing", () => {
  it("an admin event whose producer failed is sent again by the sweep, then delivered", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    await runInDurableObject(keyObject(id), (instance: KeyGate) => {
      instance.queue = {
        send: () => Promise.reject(new Error("queue down")),
        sendBatch: () => Promise.reject(new Error("queue down")),
      } as unknown as Queue<PortcullisEvent>;
    });
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    const revoked = (await eventsOfKey(id)).find((event) => event.type === "key.revoked") as PortcullisEvent;
    const row = await env.DB.prepare("SELECT dispatched FROM events WHERE id = ?1").bind(revoked.id).first();
    expect(row).toEqual({ dispatched: 0 });

    const sent: PortcullisEvent[] = [];
    const queue = {
      sendBatch: async (messages: { body: PortcullisEvent }[]) => {
        sent.push(...messages.map((message) => message.body));
      },
    } as unknown as Queue<PortcullisEvent>;
    // A sweep sends the oldest 100 undispatched events; the files before this one (one runtime,
    // one D1) may have left more. Those are taken as the consumer takes them, until ours comes.
    for (let sweeps = 0; sweeps < 20 && !sent.some((event) => event.id === revoked.id); sweeps++) {
      const others = sent.splice(0).map((event) => event.id);
      await env.DB.prepare("UPDATE events SET dispatched = 1 WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(others))
        .run();
      await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 120_000 }), {
        ...env,
        EVENTS: queue,
      });
    }
    const resent = sent.filter((event) => event.id === revoked.id);
    expect(resent).toEqual([revoked]);

    const { posted } = receiver();
    const setup = withWebhooks([{ url: HOOK }]);
    expect((await consume(resent, setup)).retryMessages).toEqual([]);
    expect(
      verified(posted[0] as (typeof posted)[number], setup.secrets.HOOK_SECRET_0 as string),
    ).toMatchObject({ type: "key.revoked" });
    expect(
      await env.DB.prepare("SELECT dispatched FROM events WHERE id = ?1").bind(revoked.id).first(),
    ).toEqual({ dispatched: 1 });
  });

  it("a counter event whose producer failed stays in D1 for the sweep; the decision was not changed", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { limits: { minute: 1 } });
    await runInDurableObject(keyObject(id), (instance: KeyGate) => {
      instance.queue = {
        sendBatch: () => Promise.reject(new Error("queue down")),
      } as unknown as Queue<PortcullisEvent>;
    });
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    expect((await callWith(plain, "/api/products", key)).status).toBe(429);
    const limited = (await flushed(id)).find(
      (event) => event.type === "ratelimit.exceeded",
    ) as PortcullisEvent;
    expect(
      await env.DB.prepare("SELECT dispatched FROM events WHERE id = ?1").bind(limited.id).first(),
    ).toEqual({ dispatched: 0 });
  });
});

describe("an event whose retry was lost", () => {
  const only = withWebhooks([{ url: HOOK }]);

  /** Runs the sweep at `at` with a queue that records what it is sent. */
  async function sweepAt(at: number): Promise<PortcullisEvent[]> {
    const sent: PortcullisEvent[] = [];
    const queue = {
      sendBatch: async (messages: { body: PortcullisEvent }[]) => {
        sent.push(...messages.map((message) => message.body));
      },
    } as unknown as Queue<PortcullisEvent>;
    await worker.scheduled(createScheduledController({ scheduledTime: at }), { ...env, EVENTS: queue });
    return sent;
  }

  /** A key's `key.created`, attempted once as delivery number `attempts` and refused: a retry is due. */
  async function refusedOnce(attempts: number): Promise<{ event: PortcullisEvent; attemptedAt: number }> {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const [event] = await eventsOfKey(id);
    receiver(() => 503);
    const attemptedAt = Date.now();
    const refused = await consume([event as PortcullisEvent], only, attempts);
    expect(refused.retryMessages.map((m) => m.delaySeconds)).toEqual([RETRY_DELAYS_S[attempts - 1]]);
    vi.restoreAllMocks();
    return { event: event as PortcullisEvent, attemptedAt };
  }

  it("is sent again by the sweep once its retry is overdue, under the same webhook-id, and delivered", async () => {
    const { event, attemptedAt } = await refusedOnce(1);
    // The queue lost the retry asked for: nothing runs the consumer again. Past the retry's
    // time and the margin, the sweep notices the delivery has not moved.
    const due = attemptedAt + (RETRY_DELAYS_S[0] as number) * 1000 + STALLED_MARGIN_MS + 1000;
    const resent = (await sweepAt(due)).filter((sent) => sent.id === event.id);
    expect(resent).toEqual([event]);

    const { posted } = receiver();
    expect((await consume(resent, only, 1)).retryMessages).toEqual([]);
    expect(posted.map((post) => post.headers["webhook-id"])).toEqual([event.id]);
    const [item] = (await listEvents(only, `?workspaceId=${event.workspaceId}`)).items;
    expect(item.deliveries).toEqual([{ webhook: 0, status: "delivered", attempts: 2 }]);
    // Delivered: later sweeps leave it alone.
    expect((await sweepAt(due + 3_600_000)).map((sent) => sent.id)).not.toContain(event.id);
  });

  it("is not sent again while it waits for its scheduled retry", async () => {
    // The fifth attempt asks for a retry 5 minutes later.
    const { event, attemptedAt } = await refusedOnce(5);
    const retryAt = attemptedAt + (RETRY_DELAYS_S[4] as number) * 1000;
    expect((await sweepAt(retryAt - 1000)).map((sent) => sent.id)).not.toContain(event.id);
    expect((await sweepAt(retryAt + STALLED_MARGIN_MS - 1000)).map((sent) => sent.id)).not.toContain(
      event.id,
    );
  });

  it("once sent again, is given a margin to arrive before the sweep sends another copy", async () => {
    const { event, attemptedAt } = await refusedOnce(5);
    const overdue = attemptedAt + (RETRY_DELAYS_S[4] as number) * 1000 + STALLED_MARGIN_MS + 1000;
    expect((await sweepAt(overdue)).filter((sent) => sent.id === event.id)).toEqual([event]);
    // The copy is due now: the next sweeps leave it a margin before sending another.
    expect((await sweepAt(overdue + 60_000)).map((sent) => sent.id)).not.toContain(event.id);
    expect(
      (await sweepAt(overdue + STALLED_MARGIN_MS + 1000)).filter((sent) => sent.id === event.id),
    ).toEqual([event]);
  });

  it("a delivery to a webhook the policy no longer has is not sent again forever", async () => {
    const { event, attemptedAt } = await refusedOnce(1);
    const due = attemptedAt + (RETRY_DELAYS_S[0] as number) * 1000 + STALLED_MARGIN_MS + 1000;
    const resent = (await sweepAt(due)).filter((sent) => sent.id === event.id);
    expect(resent).toEqual([event]);
    const { posted } = receiver();
    const elsewhere = withWebhooks([{ url: HOOK, workspaceIds: ["ws_someoneelse"] }]);
    expect((await consume(resent, elsewhere, 1)).retryMessages).toEqual([]);
    expect(posted).toEqual([]);
    expect((await sweepAt(due + 3_600_000)).map((sent) => sent.id)).not.toContain(event.id);
  });
});

describe("GET /events", () => {
  it("lists newest first with a cursor, filters by type, and shows pending deliveries before the consumer ran", async () => {
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    expect((await admin("PATCH", `/keys/${id}`, { name: "x" })).status).toBe(200);
    const hooks = withWebhooks([{ url: HOOK }, { url: `${HOOK}/other`, workspaceIds: ["ws_someoneelse"] }]);
    const first = await listEvents(hooks, `?workspaceId=${ws}&limit=1`);
    expect(first.items).toEqual([
      {
        id: expect.any(String),
        type: "key.updated",
        at: expect.any(String),
        data: expect.objectContaining({ keyId: id, changed: ["name"] }),
        deliveries: [{ webhook: 0, status: "pending", attempts: 0 }],
      },
    ]);
    const second = await listEvents(hooks, `?workspaceId=${ws}&limit=1&cursor=${first.cursor}`);
    expect(second.items.map((item: Json) => item.type)).toEqual(["key.created"]);
    const filtered = await listEvents(hooks, `?workspaceId=${ws}&type=key.created`);
    expect(filtered.items.map((item: Json) => item.type)).toEqual(["key.created"]);
    const bad = await direct(adminRequest("GET", `/events?type=key.exploded`), hooks.bindings);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(first)).not.toContain(HOOK);
  });

  it("lists by the time of each event, newest first: a counter event moved to D1 after a later admin event comes after it, and pages return each event once", async () => {
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { credits: { remaining: 1 } });
    const [created] = await eventsOfKey(id);
    const counted = (created as PortcullisEvent).at + 1;
    await runInDurableObject(keyObject(id), (instance: KeyGate) => {
      instance.now = () => counted;
    });
    // One request raises credits.low and credits.exhausted, both at `counted`: a tie.
    expect((await callWith(plain, "/api/products", key)).status).toBe(200);
    await runInDurableObject(keyObject(id), (instance: KeyGate) => {
      instance.now = () => counted + 1000;
    });
    expect((await admin("PATCH", `/keys/${id}`, { name: "later" })).status).toBe(200);
    // The counter events reach D1 only now, after the admin event.
    await runDurableObjectAlarm(keyObject(id));

    const all = (await listEvents(plain, `?workspaceId=${ws}`)).items as Json[];
    expect(all.map((item) => item.type)).toEqual([
      "key.updated",
      "credits.exhausted",
      "credits.low",
      "key.created",
    ]);
    const times = all.map((item) => Date.parse(item.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times[1]).toBe(counted);

    const paged: Json[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await listEvents(
        plain,
        `?workspaceId=${ws}&limit=1${cursor === null ? "" : `&cursor=${cursor}`}`,
      );
      paged.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== null && paged.length < 10);
    expect(paged.map((item) => item.id)).toEqual(all.map((item) => item.id));
    const two = await listEvents(plain, `?workspaceId=${ws}&limit=2`);
    const rest = await listEvents(plain, `?workspaceId=${ws}&limit=2&cursor=${two.cursor}`);
    expect([...two.items, ...rest.items].map((item: Json) => item.id)).toEqual(all.map((item) => item.id));
    const bad = await direct(adminRequest("GET", `/events?workspaceId=${ws}&cursor=MTI`), plain.bindings);
    expect(bad.status).toBe(400);
  });

  it("needs audit:read, and an admin key sees only its own workspace's events", async () => {
    const mine = await createWorkspace();
    const theirs = await createWorkspace();
    await createKey(mine);
    await createKey(theirs);
    const reader = await admin("POST", "/keys", {
      workspaceId: mine,
      type: "admin",
      permissions: ["audit:read"],
    });
    const writer = await admin("POST", "/keys", {
      workspaceId: mine,
      type: "admin",
      permissions: ["keys:write"],
    });
    const own = await admin("GET", "/events", undefined, reader.json.key);
    expect(own.status).toBe(200);
    expect(own.json.items.length).toBeGreaterThan(0);
    expect(own.json.items.every((item: Json) => item.data.workspaceId === mine)).toBe(true);
    expect((await admin("GET", `/events?workspaceId=${theirs}`, undefined, reader.json.key)).status).toBe(
      404,
    );
    expect((await admin("GET", "/events", undefined, writer.json.key)).status).toBe(403);
    expect((await admin("GET", `/events?workspaceId=${theirs}`, undefined, ROOT_TOKEN)).status).toBe(200);
  });
});

describe("leak reports", () => {
  it("a reported key raises key.revoked and key.leaked, with where it leaked and never the token", async () => {
    const signer = await githubSigner("gh-events");
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws);
    const report = leak(key);
    expect((await sendReport(signer, [report], leakBindings([signer.entry()]))).status).toBe(200);
    const events = await eventsOfKey(id);
    expect(types(events)).toEqual(["key.created", "key.revoked", "key.leaked"]);
    expect(events[2]?.data).toMatchObject({
      keyId: id,
      action: "revoke",
      tokenType: report.type,
      url: report.url,
      source: report.source,
    });
    expect(JSON.stringify(events)).not.toContain(key);
  });
});
