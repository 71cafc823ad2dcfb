/**
 * UsageRollup: a workspace's usage summed over its keys, in a fixed number of Durable Objects
 * per workspace (`<workspaceId>/<shard>`, a key's shard by hash of its id), so that workspace
 * usage costs `ROLLUP_SHARDS` calls whatever the traffic (docs/consistency.md#usage).
 *
 * Each key's object feeds its shard from its alarm with the ABSOLUTE totals of the periods that
 * changed; the shard keeps each key's last total of a recent period and adds the difference to
 * the period's sum (sum += new - old), so a retried feed counts nothing twice. The shard also
 * keeps its keys' last use and balance, and writes them to D1 in one statement per hour.
 */
import { DurableObject } from "cloudflare:workers";
import type { MemberState, UsageFeed, UsageKind, UsageRollupApi } from "../key-client/usage-rollup-client";
import type { Credits } from "../keys/record";
import { logEvent } from "../log";
import { d1 } from "../storage/guard";
import type { DayCounts } from "../storage/usage";
import { dailyUsageDays, oldestKept, utcDay, utcHour } from "./usage-periods";

export {
  ROLLUP_SHARDS,
  rollupShard,
  type UsageFeed,
  workspaceUsage,
} from "../key-client/usage-rollup-client";

/** Last use and balances reach D1 at most this often per shard, ms. */
export const LAST_USED_WRITE_MS = 3_600_000;
/** A key's own totals are kept here for periods this recent, ms: older periods no longer change. */
export const LIVE_MS = 3 * 86_400_000;
/** Rows removed per table by one prune. */
const PRUNE_BATCH = 1000;
/** Keys written to D1 per statement. */
const WRITE_BATCH = 500;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS key_totals (
  key_id TEXT NOT NULL, kind TEXT NOT NULL, period TEXT NOT NULL, code TEXT NOT NULL,
  count INTEGER NOT NULL, PRIMARY KEY (key_id, kind, period, code));
CREATE TABLE IF NOT EXISTS sums (
  kind TEXT NOT NULL, period TEXT NOT NULL, code TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (kind, period, code));
CREATE TABLE IF NOT EXISTS members (
  key_id TEXT PRIMARY KEY, last_used_at INTEGER, credits TEXT, at INTEGER NOT NULL,
  imported INTEGER NOT NULL DEFAULT 0, dirty INTEGER NOT NULL DEFAULT 0);
`;

export class UsageRollup extends DurableObject<Env> implements UsageRollupApi {
  /** D1, as this object sees it; tests replace it to count or fail its queries. */
  db: D1Database;
  /** The clock; tests replace it to cross retention edges without sleeping. */
  now: () => number = () => Date.now();
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = env.DB;
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Takes a key's absolute totals: each period's sum moves by what the key's total moved. */
  async feed(feed: UsageFeed): Promise<void> {
    const now = this.now();
    const live = { day: utcDay(now - LIVE_MS), hour: utcHour(now - LIVE_MS) };
    this.ctx.storage.transactionSync(() => {
      const member = this.sql
        .exec<{ imported: number }>("SELECT imported FROM members WHERE key_id = ?", feed.keyId)
        .toArray()[0];
      const importing = feed.imported && member?.imported !== 1;
      for (const [kind, periods] of [
        ["day", feed.days],
        ["hour", feed.hours],
      ] as const) {
        for (const [period, counts] of Object.entries(periods)) {
          const recent = period >= live[kind];
          // An old period no longer changes: only the one-time import brings it.
          if (!recent && !importing) continue;
          for (const [code, count] of Object.entries(counts)) {
            if (!Number.isSafeInteger(count) || count < 0) continue;
            const before = recent
              ? (this.sql
                  .exec<{ count: number }>(
                    "SELECT count FROM key_totals WHERE key_id = ? AND kind = ? AND period = ? AND code = ?",
                    feed.keyId,
                    kind,
                    period,
                    code,
                  )
                  .toArray()[0]?.count ?? 0)
              : 0;
            if (count <= before) continue;
            if (recent) {
              this.sql.exec(
                `INSERT INTO key_totals (key_id, kind, period, code, count) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (key_id, kind, period, code) DO UPDATE SET count = excluded.count`,
                feed.keyId,
                kind,
                period,
                code,
                count,
              );
            }
            this.sql.exec(
              `INSERT INTO sums (kind, period, code, count) VALUES (?, ?, ?, ?)
               ON CONFLICT (kind, period, code) DO UPDATE SET count = count + excluded.count`,
              kind,
              period,
              code,
              count - before,
            );
          }
        }
      }
      this.sql.exec(
        `INSERT INTO members (key_id, last_used_at, credits, at, imported, dirty) VALUES (?1, ?2, ?3, ?4, ?5, 1)
         ON CONFLICT (key_id) DO UPDATE SET
           last_used_at = MAX(COALESCE(last_used_at, 0), COALESCE(excluded.last_used_at, 0)),
           credits = excluded.credits, at = excluded.at,
           imported = MAX(imported, excluded.imported), dirty = 1`,
        feed.keyId,
        feed.lastUsedAt,
        feed.credits === null ? null : JSON.stringify(feed.credits),
        feed.at,
        feed.imported ? 1 : 0,
      );
    });
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(now + LAST_USED_WRITE_MS);
  }

  /** The last use and balance each of these keys last fed here (keys never fed are absent). */
  async members(keyIds: string[]): Promise<Record<string, MemberState>> {
    const found: Record<string, MemberState> = {};
    const rows = this.sql.exec<{
      key_id: string;
      last_used_at: number | null;
      credits: string | null;
      at: number;
    }>(
      "SELECT key_id, last_used_at, credits, at FROM members WHERE key_id IN (SELECT value FROM json_each(?))",
      JSON.stringify(keyIds),
    );
    for (const row of rows) {
      found[row.key_id] = {
        lastUsedAt: row.last_used_at,
        credits: row.credits === null ? null : (JSON.parse(row.credits) as Credits),
        at: row.at,
      };
    }
    return found;
  }

  async totals(kind: UsageKind, from: string, to: string): Promise<Record<string, DayCounts>> {
    const periods: Record<string, DayCounts> = {};
    const rows = this.sql.exec<{ period: string; code: string; count: number }>(
      "SELECT period, code, count FROM sums WHERE kind = ? AND period BETWEEN ? AND ?",
      kind,
      from,
      to,
    );
    for (const row of rows) periods[row.period] = { ...periods[row.period], [row.code]: row.count };
    return periods;
  }

  /**
   * Once an hour: writes the last use and balance of the keys fed since the last write to D1,
   * in one statement per `WRITE_BATCH` keys, then prunes what retention no longer keeps.
   */
  override async alarm(): Promise<void> {
    const now = this.now();
    this.prune(now);
    const dirty = this.sql
      .exec<{ key_id: string; last_used_at: number | null; credits: string | null; at: number }>(
        "SELECT key_id, last_used_at, credits, at FROM members WHERE dirty = 1",
      )
      .toArray();
    if (dirty.length === 0) return this.later(now);
    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < dirty.length; i += WRITE_BATCH) {
      const batch = dirty.slice(i, i + WRITE_BATCH).map((row) => ({
        id: row.key_id,
        used: row.last_used_at,
        credits: row.credits,
        at: row.at,
      }));
      // The balance is written only over a record no admin change touched since it was seen.
      statements.push(
        this.db
          .prepare(
            `UPDATE keys SET
               last_used_at = MAX(COALESCE(keys.last_used_at, 0), COALESCE(j.value ->> '$.used', 0)),
               credits = CASE WHEN keys.updated_at <= j.value ->> '$.at' THEN j.value ->> '$.credits' ELSE keys.credits END
             FROM json_each(?1) AS j WHERE keys.id = j.value ->> '$.id'`,
          )
          .bind(JSON.stringify(batch)),
      );
    }
    try {
      await d1(() => this.db.batch(statements));
    } catch (error) {
      logEvent("error", "last_used_write_failed", { keys: dirty.length, error: String(error) });
      await this.ctx.storage.setAlarm(this.now() + LAST_USED_WRITE_MS);
      return;
    }
    // Keys fed again while D1 was written stay dirty, for the next hour.
    for (const row of dirty) {
      this.sql.exec("UPDATE members SET dirty = 0 WHERE key_id = ? AND at = ?", row.key_id, row.at);
    }
    await this.later(this.now());
  }

  /** The next alarm: in an hour for keys fed meanwhile, in a day while there is usage to prune. */
  private async later(now: number): Promise<void> {
    const dirty = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members WHERE dirty = 1").one().n;
    const kept = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM (SELECT 1 FROM sums LIMIT 1)")
      .one().n;
    if (dirty > 0) await this.ctx.storage.setAlarm(now + LAST_USED_WRITE_MS);
    else if (kept > 0) await this.ctx.storage.setAlarm(now + 86_400_000);
  }

  /** Removes sums past retention and keys' totals of periods that no longer change, bounded. */
  private prune(now: number): void {
    const kept = oldestKept(now, dailyUsageDays(this.env));
    const live = { day: utcDay(now - LIVE_MS), hour: utcHour(now - LIVE_MS) };
    for (const [table, kind, before] of [
      ["sums", "day", kept.day],
      ["sums", "hour", kept.hour],
      ["key_totals", "day", live.day],
      ["key_totals", "hour", live.hour],
    ] as const) {
      this.sql.exec(
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE kind = ? AND period < ? LIMIT ?)`,
        kind,
        before,
        PRUNE_BATCH,
      );
    }
  }
}
