/**
 * The queue's consumer (docs/events.md): each message is one event, POSTed to every webhook of
 * the policy that receives it, signed as Standard Webhooks. Each attempt is signed anew with
 * its own `webhook-timestamp`; `webhook-id` is the event's id on every attempt. A 2xx is a
 * delivery; anything else (a redirect included: redirects are not followed) is retried with
 * backoff, only to the webhooks not yet delivered, until the last attempt marks them failed
 * and the queue moves the message to its dead-letter queue.
 */
import { Webhook as Signer } from "standardwebhooks";
import { EVENT_TYPES, type PortcullisEvent } from "../keys/events";
import { logEvent } from "../log";
import { type Webhook, webhooksFor } from "../policy/webhooks";
import { EventStore } from "../storage/events";
import { commit } from "../storage/guard";

/**
 * Delay before each retry, s: the first within 30 s, all of them spanning more than an hour.
 * wrangler.toml's `max_retries` is the length of this list.
 */
export const RETRY_DELAYS_S = [5, 30, 60, 120, 300, 600, 900, 1800] as const;
/** Attempts of one message: the first and its retries. */
export const MAX_ATTEMPTS = RETRY_DELAYS_S.length + 1;
/** Longest wait for a webhook's answer, ms. */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface DeliveryDeps {
  db: D1Database;
  webhooks: readonly Webhook[];
  /** The Worker secret of this name, if set. */
  secret: (name: string) => string | undefined;
  now: () => number;
}

/** The delay before the retry that follows attempt number `attempts` (1-based), s. */
export function retryDelay(attempts: number): number {
  return RETRY_DELAYS_S[Math.min(Math.max(attempts, 1), RETRY_DELAYS_S.length) - 1] as number;
}

/** What a webhook receives: the same bytes on every attempt, so one signature scheme verifies all. */
export function webhookBody(event: PortcullisEvent): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data: event.data });
}

/** The Standard Webhooks headers of one attempt; throws on a secret that is not `whsec_` base64. */
export function signedHeaders(
  secret: string,
  eventId: string,
  sentAt: Date,
  body: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "Portcullis-Webhooks",
    "webhook-id": eventId,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": new Signer(secret).sign(eventId, sentAt, body),
  };
}

function isEvent(body: unknown): body is PortcullisEvent {
  const event = body as PortcullisEvent;
  return (
    typeof event === "object" &&
    event !== null &&
    typeof event.id === "string" &&
    (EVENT_TYPES as readonly string[]).includes(event.type) &&
    typeof event.at === "number" &&
    typeof event.workspaceId === "string" &&
    typeof event.data === "object" &&
    event.data !== null
  );
}

export async function deliverBatch(batch: MessageBatch<unknown>, deps: DeliveryDeps): Promise<void> {
  await Promise.all(batch.messages.map((message) => deliverMessage(message, deps)));
}

async function deliverMessage(message: Message<unknown>, deps: DeliveryDeps): Promise<void> {
  const event = message.body;
  if (!isEvent(event)) {
    // Nothing could ever deliver it: retrying would only delay the dead-letter queue.
    logEvent("error", "event_malformed", { messageId: message.id });
    message.ack();
    return;
  }
  try {
    const store = new EventStore(deps.db);
    const targets = webhooksFor(deps.webhooks, event);
    const deliveries = await store.dispatch(event.id, targets, deps.now());
    // A webhook the policy no longer sends this event to is owed nothing: the sweep forgets it.
    const dropped = [...deliveries.values()]
      .filter((delivery) => delivery.status === "pending" && !targets.includes(delivery.webhook))
      .map((delivery) => delivery.webhook);
    const open = targets.filter((index) => (deliveries.get(index)?.status ?? "pending") === "pending");
    if (open.length === 0) {
      if (dropped.length > 0) await commit(deps.db, [store.unowed(event.id, dropped)]);
      message.ack();
      return;
    }
    const last = message.attempts >= MAX_ATTEMPTS;
    const delivered = await Promise.all(open.map((index) => post(deps, index, event)));
    const at = deps.now();
    // When the retry asked for below is due: past it and a margin, the sweep sends the event again.
    const retryAt = at + retryDelay(message.attempts) * 1000;
    await commit(deps.db, [
      ...open.map((index, n) => {
        const status = delivered[n] ? "delivered" : last ? "failed" : "pending";
        return store.attempted(event.id, index, status, at, status === "pending" ? retryAt : null);
      }),
      ...(dropped.length > 0 ? [store.unowed(event.id, dropped)] : []),
    ]);
    if (delivered.every(Boolean)) message.ack();
    else message.retry({ delaySeconds: retryDelay(message.attempts) });
  } catch (error) {
    logEvent("error", "event_delivery_failed", { eventId: event.id, error: String(error) });
    message.retry({ delaySeconds: retryDelay(message.attempts) });
  }
}

/** One signed POST; true on a 2xx. The URL is never logged: it may hold a secret. */
async function post(deps: DeliveryDeps, index: number, event: PortcullisEvent): Promise<boolean> {
  const webhook = deps.webhooks[index] as Webhook;
  const fields = { eventId: event.id, webhook: index };
  const secret = deps.secret(webhook.secretEnv);
  if (!secret) {
    logEvent("error", "webhook_secret_missing", { ...fields, secretEnv: webhook.secretEnv });
    return false;
  }
  const body = webhookBody(event);
  let headers: Record<string, string>;
  try {
    headers = signedHeaders(secret, event.id, new Date(deps.now()), body);
  } catch {
    logEvent("error", "webhook_secret_invalid", { ...fields, secretEnv: webhook.secretEnv });
    return false;
  }
  try {
    const response = await fetch(webhook.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    if (!ok) logEvent("warn", "webhook_refused", { ...fields, status: response.status });
    return ok;
  } catch (error) {
    logEvent("warn", "webhook_unreachable", { ...fields, error: String(error) });
    return false;
  }
}
