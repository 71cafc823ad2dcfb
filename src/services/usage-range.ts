/**
 * Usage reports (docs/admin-api.md): the periods of a range, by UTC day or hour, every one listed with
 * zeros where nothing happened. `from` and `to` are inclusive ISO dates or times; the default
 * is the last 30 days by day, the last 24 hours by hour, ending with the current period.
 */
import { Refusal } from "../refusals";
import type { DayCounts } from "../storage/usage";

export type Granularity = "day" | "hour";

export interface UsageItem {
  day?: string;
  hour?: string;
  allowed: number;
  denied: Record<string, number>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Periods of the default range. */
const DEFAULT_PERIODS: Record<Granularity, number> = { day: 30, hour: 24 };
/** Longest range a report lists: a year of days, or the 7 days that hours are kept. */
const MAX_PERIODS: Record<Granularity, number> = { day: 366, hour: 7 * 24 };
const STEP: Record<Granularity, number> = { day: DAY_MS, hour: HOUR_MS };

function startOf(granularity: Granularity, at: number): number {
  return at - (at % STEP[granularity]);
}

/** The label of the period starting at `start`: `YYYY-MM-DD` or `YYYY-MM-DDTHH:00:00Z`. */
export function periodLabel(granularity: Granularity, start: number): string {
  const iso = new Date(start).toISOString();
  return granularity === "day" ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00:00Z`;
}

/** A UTC date, or a UTC time (`Z`), to the second at most. */
const BOUND = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)?$/;

function parseBound(field: "from" | "to", value: string): number {
  const match = BOUND.exec(value);
  const at = match ? Date.parse(match[2] ? value : `${value}T00:00:00Z`) : Number.NaN;
  // Date.parse takes 2026-02-30 for March 2: a date must come back as itself.
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== match?.[1]) {
    throw new Refusal("bad_request", `Invalid ${field}: a UTC date (YYYY-MM-DD) or time (…Z).`, {
      errors: [{ field, message: "a UTC date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)" }],
    });
  }
  return at;
}

/** The labels of every period of the range, oldest first. */
export function periods(
  granularity: Granularity,
  query: { from?: string; to?: string },
  now: number,
): string[] {
  const step = STEP[granularity];
  const last = startOf(granularity, query.to === undefined ? now : parseBound("to", query.to));
  const first =
    query.from === undefined
      ? last - (DEFAULT_PERIODS[granularity] - 1) * step
      : startOf(granularity, parseBound("from", query.from));
  const count = Math.floor((last - first) / step) + 1;
  if (count < 1 || count > MAX_PERIODS[granularity]) {
    const message = `from must not be after to, and a report lists at most ${MAX_PERIODS[granularity]} ${granularity}s`;
    throw new Refusal("bad_request", `Invalid range: ${message}.`, { errors: [{ field: "from", message }] });
  }
  return Array.from({ length: count }, (_, i) => periodLabel(granularity, first + i * step));
}

/** Every period of `labels` with its counts (zeros where there are none). */
export function usageItems(
  granularity: Granularity,
  labels: readonly string[],
  counts: Record<string, DayCounts>,
): UsageItem[] {
  return labels.map((label) => {
    const { valid = 0, ...denied } = counts[label] ?? {};
    return { [granularity]: label, allowed: valid, denied };
  });
}

export interface UsageQuery {
  granularity: Granularity;
  from?: string;
  to?: string;
}

/**
 * A usage report: the range's periods (validated first), each with the counts `read` finds
 * between the first and the last of them.
 */
export async function usageReport(
  query: UsageQuery,
  now: number,
  read: (from: string, to: string) => Promise<Record<string, DayCounts>>,
): Promise<UsageItem[]> {
  const labels = periods(query.granularity, query, now);
  return usageItems(query.granularity, labels, await read(labels[0] as string, labels.at(-1) as string));
}
