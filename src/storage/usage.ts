/**
 * D1 queries for per-day key usage. Counts are written as absolute totals, so that writing the
 * same day twice (a retried write-behind) never counts a request twice.
 */
import { d1 } from "./guard";

export interface UsageDay {
  day: string;
  allowed: number;
  denied: Record<string, number>;
}

/** Usage of one day, by code (`valid` for allowed requests). */
export type DayCounts = Record<string, number>;

export class UsageStore {
  constructor(private readonly db: D1Database) {}

  set(keyId: string, day: string, code: string, count: number): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO key_usage (key_id, day, code, count) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key_id, day, code) DO UPDATE SET count = excluded.count`,
      )
      .bind(keyId, day, code, count);
  }

  /** Days from `from` to `to` (inclusive, YYYY-MM-DD) that saw requests, oldest first. */
  async list(keyId: string, from: string, to: string): Promise<Record<string, DayCounts>> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          "SELECT day, code, count FROM key_usage WHERE key_id = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day",
        )
        .bind(keyId, from, to)
        .all<{ day: string; code: string; count: number }>(),
    );
    const days: Record<string, DayCounts> = {};
    for (const row of results) days[row.day] = { ...days[row.day], [row.code]: row.count };
    return days;
  }
}

/** The API shape of a day's counts. */
export function usageDay(day: string, counts: DayCounts): UsageDay {
  const { valid = 0, ...denied } = counts;
  return { day, allowed: valid, denied };
}
