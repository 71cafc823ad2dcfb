/**
 * Events and their deliveries (migrations/0006_events.sql, 0008 and 0009). An event row is
 * written in the same D1 batch as the change that raised it (or moved from the key object's
 * outbox), and is idempotent by id, so that a retried write records it once.
 */
import type { EventType, PortcullisEvent } from "../keys/events";
import { d1 } from "./guard";
import { parseJson } from "./json";

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Delivery {
  webhook: number;
  status: DeliveryStatus;
  attempts: number;
}

interface EventRow {
  seq: number;
  id: string;
  type: EventType;
  at: number;
  workspace_id: string;
  data: string;
}

interface DeliveryRow {
  event_id: string;
  webhook: number;
  status: DeliveryStatus;
  attempts: number;
}

/** Where an event stands in the listing: its time, then its insertion order. */
export interface EventPosition {
  at: number;
  seq: number;
}

function eventOf(row: EventRow): PortcullisEvent {
  return {
    id: row.id,
    type: row.type,
    at: row.at,
    workspaceId: row.workspace_id,
    data: parseJson<Record<string, unknown>>(row.data, {}),
  };
}

export class EventStore {
  constructor(private readonly db: D1Database) {}

  /** The event of a key's creation, written only if the key `keyId` is in D1 (a capped insert went in). */
  insertIfKey(event: PortcullisEvent, keyId: string): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT OR IGNORE INTO events (id, type, at, workspace_id, data)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM keys WHERE id = ?6)`,
      )
      .bind(event.id, event.type, event.at, event.workspaceId, JSON.stringify(event.data), keyId);
  }

  insert(event: PortcullisEvent): D1PreparedStatement {
    return this.db
      .prepare(`INSERT OR IGNORE INTO events (id, type, at, workspace_id, data) VALUES (?1, ?2, ?3, ?4, ?5)`)
      .bind(event.id, event.type, event.at, event.workspaceId, JSON.stringify(event.data));
  }

  /**
   * Newest first by the time of each event (`at`), then by `seq`, from `since` on; `after` is
   * the position of the previous page's last event. A workspace's events are read in order from
   * `events_workspace_at`, all events from `events_at`.
   */
  async list(query: {
    workspaceId: string | null;
    type: string | null;
    since: number;
    after: EventPosition | null;
    limit: number;
  }): Promise<{ position: EventPosition; event: PortcullisEvent }[]> {
    const where = ["at >= ?1", "(?2 IS NULL OR type = ?2)"];
    if (query.after) where.push("(at, seq) < (?3, ?4)");
    if (query.workspaceId !== null) where.push("workspace_id = ?5");
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT seq, id, type, at, workspace_id, data FROM events
           WHERE ${where.join(" AND ")} ORDER BY at DESC, seq DESC LIMIT ?6`,
        )
        .bind(
          query.since,
          query.type,
          query.after?.at ?? null,
          query.after?.seq ?? null,
          query.workspaceId,
          query.limit,
        )
        .all<EventRow>(),
    );
    return results.map((row) => ({ position: { at: row.at, seq: row.seq }, event: eventOf(row) }));
  }

  /** The deliveries of these events, by event id. */
  async deliveries(eventIds: string[]): Promise<Map<string, Delivery[]>> {
    const byEvent = new Map<string, Delivery[]>();
    if (eventIds.length === 0) return byEvent;
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT event_id, webhook, status, attempts FROM event_deliveries
           WHERE event_id IN (SELECT value FROM json_each(?1)) ORDER BY webhook`,
        )
        .bind(JSON.stringify(eventIds))
        .all<DeliveryRow>(),
    );
    for (const row of results) {
      const list = byEvent.get(row.event_id) ?? [];
      list.push({ webhook: row.webhook, status: row.status, attempts: row.attempts });
      byEvent.set(row.event_id, list);
    }
    return byEvent;
  }

  /**
   * The consumer has the event at `now`: it is no longer swept as undispatched, and each
   * webhook it goes to has a delivery row (pending, its first attempt due now, until a POST
   * succeeds).
   */
  async dispatch(eventId: string, webhooks: number[], now: number): Promise<Map<number, Delivery>> {
    await d1(() =>
      this.db.batch([
        this.db.prepare("UPDATE events SET dispatched = 1 WHERE id = ?1").bind(eventId),
        ...webhooks.map((webhook) =>
          this.db
            .prepare(
              `INSERT OR IGNORE INTO event_deliveries (event_id, webhook, status, attempts, retry_at)
               VALUES (?1, ?2, 'pending', 0, ?3)`,
            )
            .bind(eventId, webhook, now),
        ),
      ]),
    );
    const found = await this.deliveries([eventId]);
    return new Map((found.get(eventId) ?? []).map((delivery) => [delivery.webhook, delivery]));
  }

  /**
   * Records one POST to a webhook at `at` and where its delivery stands after it; `retryAt` is
   * when the retry asked for is due (null when none is: delivered or failed).
   */
  attempted(
    eventId: string,
    webhook: number,
    status: DeliveryStatus,
    at: number,
    retryAt: number | null,
  ): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE event_deliveries SET status = ?3, attempts = attempts + 1, last_attempt_at = ?4, retry_at = ?5
         WHERE event_id = ?1 AND webhook = ?2 AND status != 'delivered'`,
      )
      .bind(eventId, webhook, status, at, retryAt);
  }

  /** Deliveries to these webhooks, which the policy no longer sends the event to, are due never. */
  unowed(eventId: string, webhooks: number[]): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE event_deliveries SET retry_at = NULL
         WHERE event_id = ?1 AND webhook IN (SELECT value FROM json_each(?2))`,
      )
      .bind(eventId, JSON.stringify(webhooks));
  }

  /**
   * Claims the deliveries whose next attempt was due before `overdue` (at most `limit`, most
   * overdue first), due again at `now`, and answers their events raised from `since` on. The
   * claim is one statement: two sweeps at once never both send an event.
   */
  async claimStalled(overdue: number, now: number, since: number, limit: number): Promise<PortcullisEvent[]> {
    const claimed = await d1(() =>
      this.db
        .prepare(
          `UPDATE event_deliveries SET retry_at = ?2
           WHERE retry_at < ?1 AND event_id IN
             (SELECT event_id FROM event_deliveries WHERE retry_at < ?1 ORDER BY retry_at LIMIT ?3)
           RETURNING event_id`,
        )
        .bind(overdue, now, limit)
        .all<{ event_id: string }>(),
    );
    const ids = [...new Set(claimed.results.map((row) => row.event_id))];
    if (ids.length === 0) return [];
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT seq, id, type, at, workspace_id, data FROM events
           WHERE id IN (SELECT value FROM json_each(?1)) AND at >= ?2 ORDER BY at`,
        )
        .bind(JSON.stringify(ids), since)
        .all<EventRow>(),
    );
    return results.map(eventOf);
  }

  /** Events the consumer has not seen, raised before `before`, oldest first. */
  async undispatched(before: number, since: number, limit: number): Promise<PortcullisEvent[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT seq, id, type, at, workspace_id, data FROM events
           WHERE dispatched = 0 AND at < ?1 AND at >= ?2 ORDER BY at LIMIT ?3`,
        )
        .bind(before, since, limit)
        .all<EventRow>(),
    );
    return results.map(eventOf);
  }

  /** Forgets events raised before `before`, with their deliveries. */
  async prune(before: number): Promise<void> {
    await d1(() =>
      this.db.batch([
        this.db
          .prepare("DELETE FROM event_deliveries WHERE event_id IN (SELECT id FROM events WHERE at < ?1)")
          .bind(before),
        this.db.prepare("DELETE FROM events WHERE at < ?1").bind(before),
      ]),
    );
  }
}
