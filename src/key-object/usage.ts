/**
 * What a key's Durable Object writes behind to D1: when the key was last used and how many
 * requests it saw per UTC day, allowed and denied by code. Kept with the counters, so that an
 * evicted or restarted object loses nothing, and written as absolute daily totals, so that a
 * retried write never counts twice.
 */
import type { DayCounts } from "../storage/usage";

/** Usage is written behind to D1 at most this long after a request, ms (SPEC: within 60 s). */
export const FLUSH_DELAY_MS = 30_000;

export interface Activity {
  lastUsedAt: number | null;
  /** Totals of the days not yet known to be complete in D1, by UTC date. */
  days: Record<string, DayCounts>;
  /** Something changed since the last write to D1. */
  dirty: boolean;
}

export const NO_ACTIVITY: Activity = { lastUsedAt: null, days: {}, dirty: false };

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
  const day = utcDay(now);
  const counts = activity.days[day] ?? {};
  return {
    lastUsedAt: code === "valid" ? now : activity.lastUsedAt,
    days: { ...activity.days, [day]: { ...counts, [code]: (counts[code] ?? 0) + 1 } },
    dirty: true,
  };
}

/** After a successful write: past days are complete in D1 and can be forgotten. */
export function afterFlush(activity: Activity, now: number): Activity {
  const today = utcDay(now);
  const days = Object.fromEntries(Object.entries(activity.days).filter(([day]) => day >= today));
  return { ...activity, days, dirty: false };
}
