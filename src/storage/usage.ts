/**
 * D1 queries for the usage an earlier revision wrote to D1 (`key_usage`, `key_usage_hourly`).
 * Usage now lives in each key's Durable Object and in its workspace's usage shards
 * (docs/consistency.md#usage); these rows are imported once by each key's object, then removed.
 */
import { d1 } from "./guard";

/** Usage of one period, by code (`valid` for allowed requests). */
export type DayCounts = Record<string, number>;

export interface LegacyRow {
  kind: "day" | "hour";
  period: string;
  code: string;
  count: number;
}

/** Keys whose D1 usage a scheduled run asks their objects to import. */
export const LEGACY_KEYS_PER_RUN = 25;

export class UsageStore {
  constructor(private readonly db: D1Database) {}

  /**
   * A key's usage rows still kept (days from `day`, hours from `hour`) and its workspace, in one
   * D1 call.
   */
  async legacyUsage(
    keyId: string,
    day: string,
    hour: string,
  ): Promise<{ rows: LegacyRow[]; workspaceId: string | null }> {
    const [rows, key] = await d1(() =>
      this.db.batch<LegacyRow | { workspace_id: string }>([
        this.db
          .prepare(
            `SELECT 'day' AS kind, day AS period, code, count FROM key_usage WHERE key_id = ?1 AND day >= ?2
             UNION ALL
             SELECT 'hour' AS kind, hour AS period, code, count FROM key_usage_hourly WHERE key_id = ?1 AND hour >= ?3`,
          )
          .bind(keyId, day, hour),
        this.db.prepare("SELECT workspace_id FROM keys WHERE id = ?1").bind(keyId),
      ]),
    );
    const workspace = key?.results[0] as { workspace_id: string } | undefined;
    return { rows: (rows?.results ?? []) as LegacyRow[], workspaceId: workspace?.workspace_id ?? null };
  }

  /** Removes a key's D1 usage rows, once its object holds them. */
  async removeLegacy(keyId: string): Promise<void> {
    await d1(() =>
      this.db.batch([
        this.db.prepare("DELETE FROM key_usage WHERE key_id = ?1").bind(keyId),
        this.db.prepare("DELETE FROM key_usage_hourly WHERE key_id = ?1").bind(keyId),
      ]),
    );
  }

  /** Some keys that still have usage rows in D1, at most `limit`. */
  async legacyKeys(limit: number): Promise<string[]> {
    const { results } = await d1(() =>
      this.db
        .prepare(
          `SELECT key_id FROM (SELECT DISTINCT key_id FROM key_usage LIMIT ?1)
           UNION SELECT key_id FROM (SELECT DISTINCT key_id FROM key_usage_hourly LIMIT ?1) LIMIT ?1`,
        )
        .bind(limit)
        .all<{ key_id: string }>(),
    );
    return results.map((row) => row.key_id);
  }
}
