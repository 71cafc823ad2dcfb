/**
 * Attacks on events and webhooks (docs/events.md): an event or a delivery never carries a key,
 * its hash or a webhook's URL (which may hold a token); a webhook that answers with a redirect
 * cannot send its delivery elsewhere; a webhook limited to some workspaces never receives
 * another workspace's events.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import { admin, createKey, createWorkspace } from "../worker/helpers";
import { consume, eventsOfKey, listEvents, receiver, verified, withWebhooks } from "../worker/webhooks";

afterEach(() => {
  vi.restoreAllMocks();
});

const URL_TOKEN = "hook-url-token-5f4dcc3b5aa765d61d83";
const HOOK = `https://hooks.example.test/in?token=${URL_TOKEN}`;

describe("webhook attacks", () => {
  it("no event, delivery or listing holds a key, its hash, a signing secret or the webhook URL", async () => {
    const setup = withWebhooks([{ url: HOOK }]);
    const ws = await createWorkspace();
    const { id, key } = await createKey(ws, { credits: { remaining: 3 } });
    const rotated = await admin("POST", `/keys/${id}/rotate`, {});
    expect(rotated.status).toBe(201);
    expect((await admin("POST", `/keys/${rotated.json.id}/revoke`)).status).toBe(200);
    const events = [...(await eventsOfKey(id)), ...(await eventsOfKey(rotated.json.id))];
    expect(events.map((event) => event.type)).toEqual(["key.created", "key.rotated", "key.revoked"]);

    const { posted } = receiver();
    expect((await consume(events, setup)).retryMessages).toEqual([]);
    expect(posted).toHaveLength(3);
    const listing = JSON.stringify(await listEvents(setup, `?workspaceId=${ws}`));
    const secret = setup.secrets.HOOK_SECRET_0 as string;
    const seen = [
      JSON.stringify(events),
      listing,
      ...posted.map((post) => post.body + JSON.stringify(post.headers)),
    ];
    for (const text of seen) {
      for (const forbidden of [
        key,
        rotated.json.key,
        await sha256Hex(key),
        URL_TOKEN,
        secret,
        secret.slice(6),
      ]) {
        expect(text).not.toContain(forbidden);
      }
    }
    for (const post of posted) expect(verified(post, secret)).toHaveProperty("data.keyId");
  });

  it("a redirect is not followed: the delivery is not made elsewhere and is retried", async () => {
    const setup = withWebhooks([{ url: HOOK }]);
    const ws = await createWorkspace();
    const { id } = await createKey(ws);
    const { posted } = receiver(() => 302);
    const result = await consume(await eventsOfKey(id), setup);
    expect(posted.map((post) => [post.url, post.init.redirect])).toEqual([[HOOK, "manual"]]);
    expect(result.retryMessages).toHaveLength(1);
    const [item] = (await listEvents(setup, `?workspaceId=${ws}`)).items;
    expect(item.deliveries).toEqual([{ webhook: 0, status: "pending", attempts: 1 }]);
  });

  it("a webhook limited to one workspace never receives another workspace's events", async () => {
    const mine = await createWorkspace();
    const other = await createWorkspace();
    const setup = withWebhooks([{ url: HOOK, workspaceIds: [mine] }]);
    const own = await createKey(mine);
    const foreign = await createKey(other);
    expect((await admin("POST", `/keys/${foreign.id}/revoke`)).status).toBe(200);
    const { posted } = receiver();
    await consume([...(await eventsOfKey(foreign.id)), ...(await eventsOfKey(own.id))], setup);
    const received = posted.map((post) => verified(post, setup.secrets.HOOK_SECRET_0 as string));
    expect(received.map((body) => body.data.workspaceId)).toEqual([mine]);
    const [foreignItem] = (await listEvents(setup, `?workspaceId=${other}`)).items;
    expect(foreignItem.deliveries).toEqual([]);
  });
});
