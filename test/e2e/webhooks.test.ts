/**
 * Webhooks over real HTTP (docs/events.md): Portcullis under `wrangler dev`, with its local queue,
 * POSTs events to a receiver on this machine (node:http), which checks each one with the
 * `standardwebhooks` package as any receiver would. The receiver refuses the first attempt of
 * every event, so each event is also seen retried: the same `webhook-id`, signed anew.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_DELAYS_S } from "../../src/services/webhook-delivery";
import type { Json } from "./fixtures";
import { type DevServer, freePort, startWranglerDev } from "./wrangler-dev";

const ROOT = "e2e-webhooks-root-token";
const SECRET = `whsec_${Buffer.from("e2e-webhook-signing-secret-32by").toString("base64")}`;
/** GitHub's side of a leak report: a P-256 key whose public half the deployment trusts. */
const GITHUB = generateKeyPairSync("ec", { namedCurve: "P-256" });
const GITHUB_KEYS = JSON.stringify({
  public_keys: [
    {
      key_identifier: "e2e-github-key",
      key: GITHUB.publicKey.export({ type: "spki", format: "pem" }),
      is_current: true,
    },
  ],
});

interface Received {
  headers: Record<string, string>;
  body: string;
}

const received: Received[] = [];
let receiver: Server;
let portcullis: DevServer;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => resolve(body));
  });
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${portcullis.url}/_portcullis/admin/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ROOT}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

/** Waits until `done` holds for what the receiver got, or fails after `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`timed out; received ${JSON.stringify(received.map((r) => r.body))}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  const seen = new Set<string>();
  receiver = createServer(async (request, response) => {
    const body = await readBody(request);
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
    );
    received.push({ headers, body });
    const id = headers["webhook-id"] ?? "";
    // The first attempt of each event fails: the next one is a retry.
    const status = seen.has(id) ? 204 : 503;
    seen.add(id);
    response.writeHead(status).end();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => receiver.listen(port, "127.0.0.1", resolve));
  portcullis = await startWranglerDev({
    vars: {
      POLICY: JSON.stringify({
        origin: "echo",
        creditsLowThreshold: 1,
        webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secretEnv: "WEBHOOK_SECRET" }],
        leaks: { githubKeysEnv: "GITHUB_KEYS" },
        keyTypes: { server: { prefix: "sk_hook" } },
        routes: [{ path: "/api/*" }],
      }),
      ADMIN_TOKEN: ROOT,
      WEBHOOK_SECRET: SECRET,
      GITHUB_KEYS,
    },
  });
});

afterAll(async () => {
  await portcullis?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("webhooks through wrangler dev", () => {
  it("delivers admin and counter events, signed as Standard Webhooks, retried under the same webhook-id", async () => {
    const workspace = await admin("POST", "/workspaces", { name: "hooks" });
    const created = await admin("POST", "/keys", {
      workspaceId: workspace.json.id,
      type: "server",
      credits: { remaining: 2 },
    });
    expect(created.status).toBe(201);
    const call = await fetch(`${portcullis.url}/api/x`, {
      headers: { Authorization: `Bearer ${created.json.key}` },
    });
    expect(call.status).toBe(200);
    expect((await admin("POST", `/keys/${created.json.id}/revoke`)).status).toBe(200);

    const expected = ["key.created", "credits.low", "key.revoked"];
    const verifier = new Webhook(SECRET);
    const bodies = () => received.map((r) => verifier.verify(r.body, r.headers) as Json);
    // Each event: a refused first attempt, then the retry (within 30 s).
    await until(() => expected.every((type) => bodies().filter((b) => b.type === type).length >= 2), 50_000);

    for (const type of expected) {
      const attempts = received.filter((r) => (JSON.parse(r.body) as Json).type === type);
      const [first, second] = attempts as [Received, Received];
      expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
      expect(second.body).toBe(first.body);
      expect(Number(second.headers["webhook-timestamp"])).toBeGreaterThan(
        Number(first.headers["webhook-timestamp"]),
      );
      expect(second.headers["webhook-signature"]).not.toBe(first.headers["webhook-signature"]);
      const body = verifier.verify(second.body, second.headers) as Json;
      expect(body).toEqual({
        type,
        timestamp: expect.any(String),
        data: expect.objectContaining({ keyId: created.json.id }),
      });
    }
    expect(received.map((r) => r.body).join("\n")).not.toContain(created.json.key);

    // The consumer records a delivery once the receiver has answered it.
    const delivered = (items: Json[]) =>
      items.length === expected.length &&
      items.every(
        (item) =>
          JSON.stringify(item.deliveries) ===
          JSON.stringify([{ webhook: 0, status: "delivered", attempts: 2 }]),
      );
    let events = await admin("GET", `/events?workspaceId=${workspace.json.id}`);
    const deadline = Date.now() + 10_000;
    while (!delivered(events.json.items) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      events = await admin("GET", `/events?workspaceId=${workspace.json.id}`);
    }
    expect(events.status).toBe(200);
    expect(delivered(events.json.items), JSON.stringify(events.json.items)).toBe(true);
    expect(events.json.items.map((item: Json) => item.type).sort()).toEqual([...expected].sort());
  });

  it("delivers every event type, each verified by the standardwebhooks package", async () => {
    const workspace = (await admin("POST", "/workspaces", { name: "every-event" })).json.id as string;
    const newKey = async (fields: Json = {}) =>
      (await admin("POST", "/keys", { workspaceId: workspace, type: "server", ...fields })).json as Json;
    const use = async (key: string, times: number) => {
      for (let i = 0; i < times; i++) {
        const response = await fetch(`${portcullis.url}/api/x`, {
          headers: { Authorization: `Bearer ${key}` },
        });
        await response.body?.cancel();
      }
    };
    // key.created, key.updated, key.rotated, key.deleted, key.revoked
    const changed = await newKey();
    expect((await admin("PATCH", `/keys/${changed.id}`, { name: "renamed" })).status).toBe(200);
    const rotated = await admin("POST", `/keys/${changed.id}/rotate`, {});
    expect(rotated.status).toBe(201);
    expect((await admin("DELETE", `/keys/${rotated.json.id}`)).status).toBe(204);
    const revoked = await newKey();
    expect((await admin("POST", `/keys/${revoked.id}/revoke`)).status).toBe(200);
    // key.leaked (and the leak's revoke): a report signed as GitHub signs it.
    const leaked = await newKey();
    const report = JSON.stringify([
      {
        token: leaked.key,
        type: "portcullis_key",
        url: "https://github.com/acme/app/blob/x",
        source: "content",
      },
    ]);
    const signature = sign("sha256", Buffer.from(report), { key: GITHUB.privateKey, dsaEncoding: "der" });
    const leak = await fetch(`${portcullis.url}/_portcullis/v1/leaks/github`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Github-Public-Key-Identifier": "e2e-github-key",
        "Github-Public-Key-Signature": signature.toString("base64"),
      },
      body: report,
    });
    expect(leak.status).toBe(200);
    // owner.revoked
    await newKey({ ownerId: "acme-customer" });
    const owner = await admin("POST", `/owners/acme-customer/revoke?workspaceId=${workspace}`);
    expect(owner.json).toEqual({ revoked: 1 });
    // credits.low (threshold 1) and credits.exhausted; quota.exceeded; ratelimit.exceeded
    await use((await newKey({ credits: { remaining: 2 } })).key, 3);
    await use((await newKey({ limits: { day: 1 } })).key, 2);
    await use((await newKey({ limits: { minute: 1 } })).key, 2);

    const all = [
      "key.created",
      "key.updated",
      "key.rotated",
      "key.deleted",
      "key.revoked",
      "key.leaked",
      "owner.revoked",
      "credits.low",
      "credits.exhausted",
      "quota.exceeded",
      "ratelimit.exceeded",
    ];
    const verifier = new Webhook(SECRET);
    const mine = () =>
      received
        .map((r) => verifier.verify(r.body, r.headers) as Json)
        .filter((body) => body.data.workspaceId === workspace);
    await until(() => all.every((type) => mine().some((body) => body.type === type)), 60_000);
    expect([...new Set(mine().map((body) => body.type))].sort()).toEqual([...all].sort());
    const text = received.map((r) => r.body).join("\n");
    for (const key of [changed.key, revoked.key, leaked.key, rotated.json.key])
      expect(text).not.toContain(key);
  });

  it("wrangler.toml retries a message as many times as there are retry delays", () => {
    const toml = readFileSync("wrangler.toml", "utf8");
    expect(toml).toMatch(new RegExp(`^max_retries = ${RETRY_DELAYS_S.length}$`, "m"));
  });
});
