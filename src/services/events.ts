/**
 * Events for the admin API (docs/events.md), and the sweep that keeps them moving: an event D1
 * holds that the queue's consumer has not seen (its producer failed, or the object that
 * queued it stopped first) is sent again, and events past their retention are forgotten.
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
/** Events sent again by one sweep at most (a queue batch holds 100 messages). */
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

  /** Sends again what the consumer has not seen, then forgets events past retention. */
  async sweep(queue: Queue<PortcullisEvent> | undefined, now: number): Promise<number> {
    const stuck = await this.events.undispatched(now - SWEEP_AFTER_MS, now - EVENT_RETENTION_MS, SWEEP_LIMIT);
    if (stuck.length > 0) {
      if (!queue) throw new Error("no EVENTS queue bound");
      await queue.sendBatch(stuck.map((body) => ({ body, contentType: "json" })));
      logEvent("info", "events_swept", { count: stuck.length });
    }
    await this.events.prune(now - EVENT_RETENTION_MS);
    return stuck.length;
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
