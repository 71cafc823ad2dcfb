/**
 * Usage of a key, counted in its Durable Object and written behind to D1: when the key was
 * last used and how many requests it saw per UTC day, allowed and denied by code. Kept with the
 * counters, so that an evicted or restarted object loses nothing, and written as absolute daily
 * totals, so that a retried write never counts twice.
 */
import type { Credits } from "../keys/record";
import { logEvent } from "../log";
import { KeyStore } from "../storage/keys";
import { type DayCounts, UsageStore } from "../storage/usage";

/** Usage is written behind to D1 at most this long after a request, ms (usage must catch up within 60 s). */
export const FLUSH_DELAY_MS = 30_000;

export interface Activity {
  lastUsedAt: number | null;
  /** Totals of the days not yet known to be complete in D1, by UTC date. */
  days: Record<string, DayCounts>;
  /** The same by UTC hour (`YYYY-MM-DDTHH:00:00Z`); absent in objects of an earlier revision. */
  hours?: Record<string, DayCounts>;
  /** Something changed since the last write to D1. */
  dirty: boolean;
}

export const NO_ACTIVITY: Activity = { lastUsedAt: null, days: {}, hours: {}, dirty: false };

const HOUR_MS = 3_600_000;
/** Hourly usage is kept this long in D1, ms. */
export const HOURLY_RETENTION_MS = 7 * 86_400_000;

/** The UTC hour `now` falls in, as `YYYY-MM-DDTHH:00:00Z`. */
export function utcHour(now: number): string {
  return `${new Date(now - (now % HOUR_MS)).toISOString().slice(0, 13)}:00:00Z`;
}

const DAY_MS = 86_400_000;
/** The last day computed, kept because every counted request asks for it. */
let lastDay = { start: 0, name: "1970-01-01" };

export function utcDay(now: number): string {
  const start = now - (now % DAY_MS);
  if (start !== lastDay.start) lastDay = { start, name: new Date(start).toISOString().slice(0, 10) };
  return lastDay.name;
}

/** Counts one request's outcome; an allowed request also marks the key as used. */
export function recordActivity(activity: Activity, code: string, now: number): Activity {
  return {
    lastUsedAt: code === "valid" ? now : activity.lastUsedAt,
    days: counted(activity.days, utcDay(now), code),
    hours: counted(activity.hours ?? {}, utcHour(now), code),
    dirty: true,
  };
}

/**
 * Counts one request's outcome in this key's usage, unless the request presented this key's
 * predecessor in its rotation grace: the predecessor's usage records it (docs/admin-api.md,
 * Rotation), this key only counts it on the limits both share.
 */
export function recordDecision(
  activity: Activity,
  check: { presented?: string },
  code: string,
  now: number,
): Activity {
  return check.presented === undefined ? recordActivity(activity, code, now) : activity;
}

/**
 * Counts the requests an isolate decided under a lease, reported when it settled the lease:
 * in the day and hour of the report (a lease lasts at most seconds), last use as it saw it.
 */
export function recordLeased(
  activity: Activity,
  counts: Record<string, number>,
  lastUsedAt: number | null,
  now: number,
): Activity {
  let { days, hours = {} } = activity;
  let any = false;
  for (const [code, count] of Object.entries(counts)) {
    if (!Number.isSafeInteger(count) || count <= 0) continue;
    days = counted(days, utcDay(now), code, count);
    hours = counted(hours, utcHour(now), code, count);
    any = true;
  }
  if (!any) return activity;
  const used = lastUsedAt === null ? activity.lastUsedAt : Math.min(lastUsedAt, now);
  return {
    lastUsedAt: used === null ? null : Math.max(used, activity.lastUsedAt ?? 0),
    days,
    hours,
    dirty: true,
  };
}

function counted(
  periods: Record<string, DayCounts>,
  period: string,
  code: string,
  count = 1,
): Record<string, DayCounts> {
  const counts = periods[period] ?? {};
  return { ...periods, [period]: { ...counts, [code]: (counts[code] ?? 0) + count } };
}

/** After a successful write: past days and hours are complete in D1 and can be forgotten. */
export function afterFlush(activity: Activity, now: number): Activity {
  const today = utcDay(now);
  const hour = utcHour(now);
  const days = Object.fromEntries(Object.entries(activity.days).filter(([day]) => day >= today));
  const hours = Object.fromEntries(Object.entries(activity.hours ?? {}).filter(([h]) => h >= hour));
  return { ...activity, days, hours, dirty: false };
}

/**
 * Writes a key's usage behind to D1 from the object's alarm: the day totals, the last use and
 * the balance, at most `FLUSH_DELAY_MS` after a request. A write that fails is retried.
 */
export class WriteBehind {
  private scheduled = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: () => D1Database,
  ) {}

  async load(): Promise<void> {
    this.scheduled = (await this.storage.getAlarm()) !== null;
  }

  async schedule(now: number): Promise<void> {
    if (this.scheduled) return;
    this.scheduled = true;
    await this.storage.setAlarm(now + FLUSH_DELAY_MS);
  }

  /**
   * Writes the totals as they stand. `cell.meters` is compared after the write: requests
   * counted while it was on its way keep the activity dirty and are written next time.
   */
  async flush<M extends { activity: Activity }>(
    now: number,
    key: { id: string; lastUsedAt: number | null; credits: Credits | null } | null,
    cell: { readonly meters: M; setMeters(meters: M, wait: boolean): Promise<void> },
  ): Promise<void> {
    this.scheduled = false;
    const written = cell.meters;
    if (!key || !written.activity.dirty) return;
    const db = this.db();
    const usage = new UsageStore(db);
    const statements = [new KeyStore(db).touch(key.id, written.activity.lastUsedAt, key.credits)];
    for (const [day, counts] of Object.entries(written.activity.days)) {
      for (const [code, count] of Object.entries(counts))
        statements.push(usage.set(key.id, day, code, count));
    }
    for (const [hour, counts] of Object.entries(written.activity.hours ?? {})) {
      for (const [code, count] of Object.entries(counts)) {
        statements.push(usage.setHour(key.id, hour, code, count));
      }
    }
    statements.push(usage.pruneHours(key.id, utcHour(now - HOURLY_RETENTION_MS)));
    try {
      await db.batch(statements);
    } catch (error) {
      logEvent("error", "flush_failed", { keyId: key.id, error: String(error) });
      await this.schedule(now);
      return;
    }
    if (cell.meters === written) {
      await cell.setMeters({ ...written, activity: afterFlush(written.activity, now) }, true);
    } else {
      await this.schedule(now);
    }
  }
}
