/**
 * Periods of usage (UTC days and hours) and how long each is kept (docs/consistency.md#usage).
 */
import { loadPolicy } from "../policy/load";
import { DEFAULT_DAILY_USAGE_DAYS } from "../policy/schema";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Hourly usage is kept this long, ms. */
export const HOURLY_RETENTION_MS = 7 * DAY_MS;

/** The UTC hour `now` falls in, as `YYYY-MM-DDTHH:00:00Z`. */
export function utcHour(now: number): string {
  return `${new Date(now - (now % HOUR_MS)).toISOString().slice(0, 13)}:00:00Z`;
}

/** The last day computed, kept because every counted request asks for it. */
let lastDay = { start: 0, name: "1970-01-01" };

/** The UTC date `now` falls in, as `YYYY-MM-DD`. */
export function utcDay(now: number): string {
  const start = now - (now % DAY_MS);
  if (start !== lastDay.start) lastDay = { start, name: new Date(start).toISOString().slice(0, 10) };
  return lastDay.name;
}

let retention: { raw: unknown; days: number } | null = null;

/** `retention.dailyUsageDays` of the deployment's policy (the default under an invalid one). */
export function dailyUsageDays(env: { POLICY?: unknown }): number {
  const cached = retention;
  if (cached !== null && cached.raw === env.POLICY) return cached.days;
  const loaded = loadPolicy(env.POLICY);
  const days = loaded.ok ? loaded.policy.retention.dailyUsageDays : DEFAULT_DAILY_USAGE_DAYS;
  retention = { raw: env.POLICY, days };
  return days;
}

/** The first day and hour still kept at `now`. */
export function oldestKept(now: number, dailyDays: number): { day: string; hour: string } {
  return { day: utcDay(now - (dailyDays - 1) * DAY_MS), hour: utcHour(now - HOURLY_RETENTION_MS) };
}
