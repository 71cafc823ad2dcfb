/**
 * Events for the admin API (docs/events.md), and the sweep that keeps them moving: an event D1
 * holds that the queue's consumer has not seen (its producer failed, or the object that
 * queued it stopped first) is sent again, so is one whose delivery has not moved well past the
 * time its retry was due (the queue lost it), and events past their retention are forgotten.
 */
import type { EventType, PortcullisEvent } from "../keys/events";
import { logEvent } from "../log";
import { type Webhook, webhooksFor } from "../policy/webhooks";
import { type Delivery, type EventPosition, EventStore } from "../storage/events";
import { WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, canSee, notFound } from "./admin-context";
import { decodeCursor, encodeCursor } from "./cursor";

/** Events are kept this long, ms. */
export const EVENT_RETENTION_MS = 30 * 86_400_000;
/** An event not seen by the consumer this long after it was raised is sent again, ms. */
export const SWEEP_AFTER_MS = 60_000;
/**
 * An event with a delivery still pending this long after its next attempt was due (its retry
 * was lost) is sent again, ms: longer than a queue's lateness and a consumer's POSTs (10 s
 * each), so that a retry on its way is not doubled.
 */
export const STALLED_MARGIN_MS = 5 * 60_000;
/**
 * Events of each kind (undispatched, overdue) sent again by one sweep at most: one queue batch
 * (it holds 100 messages) each.
 */
const SWEEP_LIMIT = 100;

export interface EventItem extends PortcullisEvent {
  deliveries: Delivery[];
}

export class EventService {
  private readonly events: EventStore;
  private readonly workspaces: WorkspaceStore;

  constructor(db: D1Database) {
    this.events = new EventStore(db);
    this.workspaces = new WorkspaceStore(db);
  }

  /**
   * Newest first by the time of each event (ties: latest stored first), with each webhook that
   * receives the event under the current policy (pending until the consumer has tried it) and
   * any other delivery already made.
   */
  async list(
    context: AdminContext,
    webhooks: readonly Webhook[],
    query: { workspaceId?: string; type?: EventType; cursor?: string; limit: number },
    now: number,
  ): Promise<{ items: EventItem[]; cursor: string | null }> {
    const workspaceId = query.workspaceId ?? context.workspaceId;
    if (workspaceId && (!canSee(context, workspaceId) || !(await this.workspaces.find(workspaceId)))) {
      throw notFound("workspace", workspaceId);
    }
    const rows = await this.events.list({
      workspaceId: workspaceId ?? null,
      type: query.type ?? null,
      since: now - EVENT_RETENTION_MS,
      after: query.cursor === undefined ? null : decodeCursor(query.cursor, isPosition),
      limit: query.limit,
    });
    const deliveries = await this.events.deliveries(rows.map((row) => row.event.id));
    const last = rows.at(-1);
    return {
      items: rows.map(({ event }) => ({
        ...event,
        deliveries: deliveriesOf(webhooksFor(webhooks, event), deliveries.get(event.id) ?? []),
      })),
      cursor: rows.length === query.limit && last ? encodeCursor(last.position) : null,
    };
  }

  /**
   * Sends again what the consumer has not seen, and what it saw but whose retry is overdue (the
   * queue lost it), then forgets events past retention. Each kind is bounded per run.
   */
  async sweep(queue: Queue<PortcullisEvent> | undefined, now: number): Promise<number> {
    const since = now - EVENT_RETENTION_MS;
    const undispatched = await this.events.undispatched(now - SWEEP_AFTER_MS, since, SWEEP_LIMIT);
    if (undispatched.length > 0 && !queue) throw new Error("no EVENTS queue bound");
    // Claimed before it is sent: a copy lost again is sent once more a margin later.
    const stalled = queue
      ? await this.events.claimStalled(now - STALLED_MARGIN_MS, now, since, SWEEP_LIMIT)
      : [];
    for (const batch of [undispatched, stalled]) {
      if (batch.length > 0) await queue?.sendBatch(batch.map((body) => ({ body, contentType: "json" })));
    }
    if (undispatched.length + stalled.length > 0) {
      logEvent("info", "events_swept", { undispatched: undispatched.length, stalled: stalled.length });
    }
    await this.events.prune(since);
    return undispatched.length + stalled.length;
  }
}

/** A cursor of the listing: the position (`at`, then `seq`) of the last event of a page. */
function isPosition(value: unknown): value is EventPosition {
  const position = value as EventPosition;
  return (
    typeof position === "object" &&
    position !== null &&
    Number.isSafeInteger(position.at) &&
    Number.isSafeInteger(position.seq)
  );
}

function deliveriesOf(receivers: number[], made: Delivery[]): Delivery[] {
  const byWebhook = new Map<number, Delivery>(
    receivers.map((webhook) => [webhook, { webhook, status: "pending", attempts: 0 }]),
  );
  for (const delivery of made) byWebhook.set(delivery.webhook, delivery);
  return [...byWebhook.values()].sort((a, b) => a.webhook - b.webhook);
}
