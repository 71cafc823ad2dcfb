/**
 * D1 queries for per-day key usage. Counts are written as absolute totals, so that writing the
 * same day twice (a retried write-behind) never counts a request twice.
 */
import { d1 } from "./guard";

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

  setHour(keyId: string, hour: string, code: string, count: number): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO key_usage_hourly (key_id, hour, code, count) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key_id, hour, code) DO UPDATE SET count = excluded.count`,
      )
      .bind(keyId, hour, code, count);
  }

  /** Removes a key's hourly totals before `hour` (hours are kept 7 days). */
  pruneHours(keyId: string, hour: string): D1PreparedStatement {
    return this.db.prepare("DELETE FROM key_usage_hourly WHERE key_id = ?1 AND hour < ?2").bind(keyId, hour);
  }

  /** Hours from `from` to `to` (inclusive, `YYYY-MM-DDTHH:00:00Z`) that saw requests. */
  async listHours(keyId: string, from: string, to: string): Promise<Record<string, DayCounts>> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          "SELECT hour AS period, code, count FROM key_usage_hourly WHERE key_id = ?1 AND hour BETWEEN ?2 AND ?3",
        )
        .bind(keyId, from, to)
        .all<PeriodRow>(),
    );
    return byPeriod(results);
  }

  /** A workspace's totals by day or hour, summed over its keys, from `from` to `to` inclusive. */
  async workspaceTotals(
    workspaceId: string,
    granularity: "day" | "hour",
    from: string,
    to: string,
  ): Promise<Record<string, DayCounts>> {
    const sql =
      granularity === "day"
        ? `SELECT u.day AS period, u.code, SUM(u.count) AS count FROM key_usage u JOIN keys k ON k.id = u.key_id
           WHERE k.workspace_id = ?1 AND u.day BETWEEN ?2 AND ?3 GROUP BY u.day, u.code`
        : `SELECT u.hour AS period, u.code, SUM(u.count) AS count FROM key_usage_hourly u JOIN keys k ON k.id = u.key_id
           WHERE k.workspace_id = ?1 AND u.hour BETWEEN ?2 AND ?3 GROUP BY u.hour, u.code`;
    const { results } = await d1(() => this.db.prepare(sql).bind(workspaceId, from, to).all<PeriodRow>());
    return byPeriod(results);
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

interface PeriodRow {
  period: string;
  code: string;
  count: number;
}

function byPeriod(rows: readonly PeriodRow[]): Record<string, DayCounts> {
  const periods: Record<string, DayCounts> = {};
  for (const row of rows) periods[row.period] = { ...periods[row.period], [row.code]: row.count };
  return periods;
}
