/**
 * Webhooks for tests in the Workers runtime: a policy with webhooks and their secrets, the
 * events D1 holds, and the queue's consumer run on a batch made of them while a stand-in for
 * `fetch` records each POST and answers it.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { type MockInstance, vi } from "vitest";
import worker from "../../src/index";
import type { PortcullisEvent } from "../../src/keys/events";
import { TEST_POLICY } from "../fixtures/policy";
import { adminRequest, direct, type Json } from "./helpers";

export const QUEUE = "portcullis-events";

/** A fresh `whsec_` secret as Standard Webhooks defines it: base64 of random bytes. */
export function webhookSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
}

export interface HookSetup {
  policy: Json;
  secrets: Record<string, string>;
  /** The bindings the Worker and the consumer run with. */
  bindings: Partial<Env>;
}

/** TEST_POLICY with these webhooks (each given a fresh secret under `HOOK_SECRET_<i>`) and extra fields. */
export function withWebhooks(hooks: Json[], extra: Json = {}): HookSetup {
  const secrets: Record<string, string> = {};
  const webhooks = hooks.map((hook, index) => {
    const name = `HOOK_SECRET_${index}`;
    secrets[name] = webhookSecret();
    return { secretEnv: name, ...hook };
  });
  const policy = { ...TEST_POLICY, webhooks, ...extra };
  return {
    policy,
    secrets,
    bindings: { POLICY: JSON.stringify(policy), ...secrets } as Partial<Env>,
  };
}

/** Events D1 holds about this key (`data.keyId`), oldest first. */
export async function eventsOfKey(keyId: string): Promise<PortcullisEvent[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, type, at, workspace_id, data FROM events WHERE json_extract(data, '$.keyId') = ?1 ORDER BY seq",
  )
    .bind(keyId)
    .all<{ id: string; type: PortcullisEvent["type"]; at: number; workspace_id: string; data: string }>();
  return results.map((row) => ({
    id: row.id,
    type: row.type,
    at: row.at,
    workspaceId: row.workspace_id,
    data: JSON.parse(row.data),
  }));
}

export interface Posted {
  url: string;
  init: RequestInit;
  headers: Record<string, string>;
  body: string;
}

/** Replaces `fetch` for the consumer: records each call, answers with `status(url, n)` (n: 1-based call count of that url). */
export function receiver(status: (url: string, n: number) => number = () => 204): {
  posted: Posted[];
  spy: MockInstance<typeof fetch>;
} {
  const posted: Posted[] = [];
  const counts = new Map<string, number>();
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    const n = (counts.get(url) ?? 0) + 1;
    counts.set(url, n);
    posted.push({
      url,
      init,
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: String(init.body),
    });
    const code = status(url, n);
    return new Response(null, {
      status: code,
      headers: code >= 300 && code < 400 ? { location: "https://elsewhere.example.test/" } : {},
    });
  });
  return { posted, spy };
}

/** What the consumer did with each message of a batch. */
export interface QueueResult {
  acked: string[];
  /** Retried messages with the delay asked for (the test pool's own batch does not record it). */
  retryMessages: { msgId: string; delaySeconds: number | undefined }[];
}

/** Runs the Worker's queue handler on these events, as delivery number `attempts`. */
export async function consume(
  events: PortcullisEvent[],
  setup: HookSetup,
  attempts = 1,
): Promise<QueueResult> {
  const result: QueueResult = { acked: [], retryMessages: [] };
  const messages = events.map((body, n) => {
    const id = `msg-${body.id}-${attempts}-${n}`;
    return {
      id,
      timestamp: new Date(),
      attempts,
      body,
      ack: () => result.acked.push(id),
      retry: (options?: QueueRetryOptions) =>
        result.retryMessages.push({ msgId: id, delaySeconds: options?.delaySeconds }),
    };
  });
  const batch = {
    queue: QUEUE,
    messages,
    ackAll: () => {
      for (const message of messages) message.ack();
    },
    retryAll: (options?: QueueRetryOptions) => {
      for (const message of messages) message.retry(options);
    },
  } as unknown as MessageBatch<unknown>;
  await worker.queue(batch, { ...env, ...setup.bindings } as typeof env);
  return result;
}

/** Checks a POST as a receiver would, with the `standardwebhooks` package; returns the parsed body. */
export function verified(post: Posted, secret: string): Json {
  return new Webhook(secret).verify(post.body, post.headers) as Json;
}

/** `GET /events` under the setup's policy. */
export async function listEvents(setup: HookSetup, query: string, token?: string): Promise<Json> {
  const response = await direct(adminRequest("GET", `/events${query}`, undefined, token), setup.bindings);
  const body = (await response.json()) as Json;
  if (response.status !== 200) throw new Error(`GET /events: ${response.status} ${JSON.stringify(body)}`);
  return body;
}
