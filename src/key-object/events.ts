/**
 * Events raised inside a key's object (docs/events.md). Counter events (`credits.low`,
 * `credits.exhausted`, `quota.exceeded`, `ratelimit.exceeded`) are decided with the request
 * that raises them and put in the object's outbox in the same storage write as its counters,
 * so that none is lost once the count is stored and the decision waits for no D1 or queue
 * call. The alarm moves the outbox to D1, then to the queue. Admin events travel with their
 * change's D1 write instead (ordered-writes.ts); once D1 has them they are queued too. A queue
 * that fails loses nothing: D1 keeps the event undispatched and the Worker's sweep sends it.
 */

import type { KeyDecision } from "../decision/decide";
import { type EventType, keyEvent, type PortcullisEvent } from "../keys/events";
import { newId } from "../keys/random";
import type { KeyRecord } from "../keys/record";
import { type CreditState, currentCredits } from "../limits/credits";
import { calendarPeriod, isCalendar } from "../limits/windows";
import { logEvent } from "../log";
import { EventStore } from "../storage/events";

/** Storage key of the `EventMarks`. */
export const EVENT_MARKS = "eventMarks";
/** Prefix of the outbox: events raised here, not yet in D1. */
export const OUTBOX_PREFIX = "outbox:";
/** Delay between an event raised by a request and its move to D1, ms. */
export const OUTBOX_FLUSH_MS = 1_000;
/** Delay before moving the outbox again after D1 failed, ms. */
const OUTBOX_RETRY_MS = 5_000;
/** `ratelimit.exceeded` is raised at most once in this long per key, ms. */
export const RATE_LIMIT_EVENT_MS = 60_000;

/** What was already reported, so that each event fires once per crossing or window. */
export interface EventMarks {
  /** `credits.low` was raised and the balance has not been above the threshold since. */
  creditsLow: boolean;
  /** Balance when `credits.exhausted` was raised; it fires again once the balance is above it. */
  exhaustedAt: number | null;
  /** Start of the day or month window whose first quota refusal was reported, epoch ms. */
  quota: { day?: number; month?: number };
  /** When `ratelimit.exceeded` was last raised, epoch ms. */
  rateLimitedAt: number | null;
}

export const NO_MARKS: EventMarks = { creditsLow: false, exhaustedAt: null, quota: {}, rateLimitedAt: null };

export interface CountedRequest {
  record: KeyRecord;
  /** The balance before the request, as stored (refilled as of `now` here). */
  creditsBefore: CreditState | null;
  decision: KeyDecision;
  cost: number;
  threshold: number | undefined;
  now: number;
}

type Raised = { type: EventType; extra: Record<string, unknown> };

/** The counter events one request raises, and the marks after it. Pure. */
export function counterEvents(
  request: CountedRequest,
  previous: EventMarks,
): { raised: Raised[]; marks: EventMarks } {
  const { decision, threshold, now } = request;
  const marks: EventMarks = { ...previous, quota: { ...previous.quota } };
  const raised: Raised[] = [];
  const before = request.creditsBefore ? currentCredits(request.creditsBefore, now).remaining : null;
  // A balance raised since (by an admin change or a refill) re-arms the credit events.
  if (before !== null && threshold !== undefined && before > threshold) marks.creditsLow = false;
  if (before !== null && marks.exhaustedAt !== null && before > marks.exhaustedAt) marks.exhaustedAt = null;

  if (decision.code === "valid" && before !== null && decision.usage.credits) {
    const after = decision.usage.credits.remaining;
    if (threshold !== undefined && after <= threshold && !marks.creditsLow) {
      marks.creditsLow = true;
      raised.push({ type: "credits.low", extra: { remaining: after, threshold } });
    }
    if (after === 0 && before > 0 && marks.exhaustedAt === null) {
      marks.exhaustedAt = 0;
      raised.push({ type: "credits.exhausted", extra: { remaining: 0, cost: request.cost } });
    }
  } else if (decision.code === "credits_exhausted" && before !== null && marks.exhaustedAt === null) {
    marks.exhaustedAt = before;
    raised.push({ type: "credits.exhausted", extra: { remaining: before, cost: request.cost } });
  } else if (decision.code === "quota_exceeded") {
    const spent = decision.usage.windows.find(
      (status) => isCalendar(status.window) && status.remaining === 0,
    );
    if (spent && isCalendar(spent.window)) {
      const start = calendarPeriod(spent.window, now).start;
      if (marks.quota[spent.window] !== start) {
        marks.quota[spent.window] = start;
        raised.push({
          type: "quota.exceeded",
          extra: {
            window: spent.window,
            limit: spent.limit,
            resetsAt: new Date(calendarPeriod(spent.window, now).end).toISOString(),
          },
        });
      }
    }
  } else if (decision.code === "rate_limited") {
    if (marks.rateLimitedAt === null || now - marks.rateLimitedAt >= RATE_LIMIT_EVENT_MS) {
      const limited = decision.usage.windows.find(
        (status) => !isCalendar(status.window) && status.remaining === 0,
      );
      marks.rateLimitedAt = now;
      raised.push({
        type: "ratelimit.exceeded",
        extra: { window: limited?.window ?? null, limit: limited?.limit ?? null },
      });
    }
  }
  return { raised, marks };
}

function sameMarks(a: EventMarks, b: EventMarks): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Sends stored events to the queue; a failure is logged and left to the sweep. */
export async function publish(
  queue: Queue<PortcullisEvent> | undefined,
  events: PortcullisEvent[],
): Promise<void> {
  if (events.length === 0) return;
  try {
    if (!queue) throw new Error("no EVENTS queue bound");
    await queue.sendBatch(events.map((body) => ({ body, contentType: "json" })));
  } catch (error) {
    logEvent("error", "event_enqueue_failed", { eventIds: events.map((e) => e.id), error: String(error) });
  }
}

export class EventOutbox {
  private marks: EventMarks = NO_MARKS;
  private sequence = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: () => D1Database,
    private readonly queue: () => Queue<PortcullisEvent> | undefined,
  ) {}

  async load(): Promise<void> {
    this.marks = (await this.storage.get<EventMarks>(EVENT_MARKS)) ?? NO_MARKS;
    const last = await this.storage.list({ prefix: OUTBOX_PREFIX, reverse: true, limit: 1 });
    const [name] = last.keys();
    this.sequence = name ? Number(name.slice(OUTBOX_PREFIX.length)) : 0;
  }

  /**
   * Records the counter events of one counted request. Its storage write is issued here, with
   * no await, so that it is committed atomically with the counters' write issued next to it.
   * True when an event was raised (the caller then schedules a flush).
   */
  recordCounted(request: CountedRequest): boolean {
    const { raised, marks } = counterEvents(request, this.marks);
    if (raised.length === 0 && sameMarks(marks, this.marks)) return false;
    this.marks = marks;
    const entries: Record<string, unknown> = { [EVENT_MARKS]: marks };
    for (const { type, extra } of raised) {
      this.sequence += 1;
      entries[`${OUTBOX_PREFIX}${String(this.sequence).padStart(12, "0")}`] = keyEvent(
        newId("evt"),
        type,
        request.record,
        request.now,
        extra,
      );
    }
    this.storage.put(entries, { allowUnconfirmed: true });
    return raised.length > 0;
  }

  /** Moves the alarm earlier so that the outbox is flushed soon. */
  async schedule(now: number): Promise<void> {
    const at = now + OUTBOX_FLUSH_MS;
    const current = await this.storage.getAlarm();
    if (current === null || current > at) await this.storage.setAlarm(at);
  }

  /** Moves the outbox to D1, then queues it; tries again later when D1 fails. */
  async flush(now: number): Promise<void> {
    const outbox = await this.storage.list<PortcullisEvent>({ prefix: OUTBOX_PREFIX });
    if (outbox.size === 0) return;
    const events = [...outbox.values()];
    const db = this.db();
    const store = new EventStore(db);
    try {
      await db.batch(events.map((event) => store.insert(event)));
    } catch (error) {
      logEvent("error", "event_store_failed", { eventIds: events.map((e) => e.id), error: String(error) });
      await this.storage.setAlarm(now + OUTBOX_RETRY_MS);
      return;
    }
    await this.storage.delete([...outbox.keys()]);
    await publish(this.queue(), events);
  }
}
