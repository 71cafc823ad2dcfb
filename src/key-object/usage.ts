/**
 * Usage of a key, counted in its Durable Object and kept there (docs/consistency.md#usage): when
 * the key was last used and how many requests it saw per UTC day and hour, allowed and denied by
 * code. Each request updates `Activity` (absolute totals of the current periods, with the
 * counters); the alarm moves them into the object's own SQLite tables, where per-key usage is
 * read, and feeds the workspace's usage shard (usage-rollup.ts) with absolute totals, so that a
 * retried feed never counts twice. D1 sees no usage write: usage of the revision that wrote it
 * to D1 is imported once, then removed from D1.
 */

import type { UsageFeed, UsageKind, UsageRollupApi } from "../key-client/usage-rollup-client";
import type { Credits } from "../keys/record";
import { logEvent } from "../log";
import { type DayCounts, UsageStore } from "../storage/usage";
import { oldestKept, utcDay, utcHour } from "./usage-periods";

export { HOURLY_RETENTION_MS, utcDay, utcHour } from "./usage-periods";

/** Usage reaches the object's tables and the workspace's shard at most this long after a request, ms. */
export const FLUSH_DELAY_MS = 30_000;

export interface Activity {
  lastUsedAt: number | null;
  /** Totals of the current days (and of past ones not yet in the object's tables), by UTC date. */
  days: Record<string, DayCounts>;
  /** The same by UTC hour (`YYYY-MM-DDTHH:00:00Z`); absent in objects of an earlier revision. */
  hours?: Record<string, DayCounts>;
  /** Something changed since the last move into the object's tables. */
  dirty: boolean;
}

export const NO_ACTIVITY: Activity = { lastUsedAt: null, days: {}, hours: {}, dirty: false };

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

/** After a move into the object's tables: past days and hours are there and can be forgotten. */
export function afterFlush(activity: Activity, now: number): Activity {
  const today = utcDay(now);
  const hour = utcHour(now);
  const days = Object.fromEntries(Object.entries(activity.days).filter(([day]) => day >= today));
  const hours = Object.fromEntries(Object.entries(activity.hours ?? {}).filter(([h]) => h >= hour));
  return { ...activity, days, hours, dirty: false };
}

/** The key as the alarm sees it: what its feed needs. */
export interface UsageKey {
  id: string;
  workspaceId: string;
  lastUsedAt: number | null;
  credits: Credits | null;
}

/**
 * Storage key of the one-time import of the key's D1 usage (rows of the revision that wrote
 * usage to D1): absent until done; `fed` once its shard took it, `cleared` once D1's rows are gone.
 */
const IMPORT = "usageImport";

interface ImportState {
  keyId: string;
  workspaceId: string | null;
  fed: boolean;
  cleared: boolean;
}

/** Rows removed per period kind by one prune. */
const PRUNE_BATCH = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS usage (
  kind TEXT NOT NULL, period TEXT NOT NULL, code TEXT NOT NULL, count INTEGER NOT NULL,
  fed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (kind, period, code))`;

/**
 * A key's usage history in its object's SQLite storage: `count` the absolute total of a period
 * and code, `fed` the total its shard last acknowledged. The alarm moves `Activity` in, feeds
 * what changed, and prunes past retention (a bounded number of rows a run).
 */
export class UsageBook {
  private scheduledAt: number | null = null;
  private imported: ImportState | null = null;
  private importing: Promise<void> | null = null;
  private readonly sql: SqlStorage;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: () => D1Database,
    private readonly rollup: (workspaceId: string, keyId: string) => UsageRollupApi,
    private readonly dailyDays: () => number,
  ) {
    this.sql = storage.sql;
  }

  async load(): Promise<void> {
    this.sql.exec(SCHEMA);
    this.scheduledAt = await this.storage.getAlarm();
    this.imported = (await this.storage.get<ImportState>(IMPORT)) ?? null;
  }

  /**
   * Marks a key created by this revision: its usage was never kept in D1, so there is nothing to
   * import (and the two D1 statements of an import are not spent on it).
   */
  async created(keyId: string, workspaceId: string): Promise<void> {
    const state = { keyId, workspaceId, fed: true, cleared: true };
    await this.storage.put(IMPORT, state);
    this.imported = state;
  }

  /** Makes sure the alarm runs at most `FLUSH_DELAY_MS` from now. */
  async schedule(now: number): Promise<void> {
    const at = now + FLUSH_DELAY_MS;
    if (this.scheduledAt !== null && this.scheduledAt <= at) return;
    this.scheduledAt = at;
    await this.storage.setAlarm(at);
  }

  /**
   * Imports the key's usage rows from D1 once (kept there by the earlier revision), merged as
   * the larger of each total (both are absolute totals of the same counts), then removes them
   * from D1. Concurrent callers share one import.
   */
  importOnce(keyId: string, now: number): Promise<void> {
    if (this.imported?.cleared) return Promise.resolve();
    this.importing ??= this.importFromD1(keyId, now).finally(() => {
      this.importing = null;
    });
    return this.importing;
  }

  private async importFromD1(keyId: string, now: number): Promise<void> {
    const store = new UsageStore(this.db());
    if (!this.imported) {
      const kept = oldestKept(now, this.dailyDays());
      const legacy = await store.legacyUsage(keyId, kept.day, kept.hour);
      this.storage.transactionSync(() => {
        for (const row of legacy.rows) this.merge(row.kind, row.period, row.code, row.count);
      });
      const state = { keyId, workspaceId: legacy.workspaceId, fed: false, cleared: false };
      await this.storage.put(IMPORT, state);
      this.imported = state;
      // The rows are stored here before they leave D1.
      await this.storage.sync();
    }
    await store.removeLegacy(keyId);
    const cleared = { ...(this.imported as ImportState), cleared: true };
    await this.storage.put(IMPORT, cleared);
    this.imported = cleared;
  }

  private merge(kind: UsageKind, period: string, code: string, count: number): void {
    this.sql.exec(
      `INSERT INTO usage (kind, period, code, count) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, period, code) DO UPDATE SET count = MAX(count, excluded.count)`,
      kind,
      period,
      code,
      count,
    );
  }

  /**
   * The alarm's work: imports once, moves the activity into the tables, feeds the shard what
   * changed, prunes. `cell.meters` is compared after the move: requests counted meanwhile keep
   * the activity dirty for the next run.
   */
  async flush<M extends { activity: Activity }>(
    now: number,
    key: UsageKey | null,
    cell: { readonly meters: M; setMeters(meters: M, wait: boolean): Promise<void> },
  ): Promise<void> {
    this.scheduledAt = null;
    const keyId = key?.id ?? this.imported?.keyId;
    if (keyId) {
      try {
        await this.importOnce(keyId, now);
      } catch (error) {
        logEvent("error", "usage_import_failed", { keyId, error: String(error) });
        await this.schedule(now);
      }
    }
    const written = cell.meters;
    if (written.activity.dirty) {
      this.storage.transactionSync(() => {
        for (const [kind, periods] of [
          ["day", written.activity.days],
          ["hour", written.activity.hours ?? {}],
        ] as const) {
          for (const [period, counts] of Object.entries(periods)) {
            for (const [code, count] of Object.entries(counts)) this.merge(kind, period, code, count);
          }
        }
      });
      await cell.setMeters({ ...written, activity: afterFlush(written.activity, now) }, true);
    }
    const workspaceId = key?.workspaceId ?? this.imported?.workspaceId;
    if (keyId && workspaceId) await this.feed(keyId, workspaceId, key, now);
    this.prune(now);
    await this.pruneLater(now);
  }

  /** Sends the shard the absolute totals it has not acknowledged, with the last use. */
  private async feed(keyId: string, workspaceId: string, key: UsageKey | null, now: number): Promise<void> {
    const rows = this.sql
      .exec<{ kind: UsageKind; period: string; code: string; count: number }>(
        "SELECT kind, period, code, count FROM usage WHERE count <> fed",
      )
      .toArray();
    const importing = this.imported !== null && !this.imported.fed;
    if (rows.length === 0 && !importing) return;
    const feed: UsageFeed = {
      keyId,
      days: {},
      hours: {},
      lastUsedAt: key?.lastUsedAt ?? null,
      credits: key?.credits ?? null,
      at: now,
      imported: importing,
    };
    for (const row of rows) {
      const periods = row.kind === "day" ? feed.days : feed.hours;
      periods[row.period] = { ...periods[row.period], [row.code]: row.count };
    }
    try {
      await this.rollup(workspaceId, keyId).feed(feed);
    } catch (error) {
      logEvent("error", "usage_feed_failed", { keyId, error: String(error) });
      await this.schedule(now);
      return;
    }
    this.storage.transactionSync(() => {
      for (const row of rows) {
        this.sql.exec(
          "UPDATE usage SET fed = ? WHERE kind = ? AND period = ? AND code = ?",
          row.count,
          row.kind,
          row.period,
          row.code,
        );
      }
    });
    if (importing && this.imported) {
      this.imported = { ...this.imported, fed: true };
      await this.storage.put(IMPORT, this.imported);
    }
  }

  /** Removes periods past retention: hours after 7 days, days after `retention.dailyUsageDays`. */
  prune(now: number): void {
    const kept = oldestKept(now, this.dailyDays());
    for (const [kind, before] of [
      ["day", kept.day],
      ["hour", kept.hour],
    ] as const) {
      this.sql.exec(
        "DELETE FROM usage WHERE rowid IN (SELECT rowid FROM usage WHERE kind = ? AND period < ? LIMIT ?)",
        kind,
        before,
        PRUNE_BATCH,
      );
    }
  }

  /** With no alarm pending, sets one for when the oldest kept period leaves retention. */
  private async pruneLater(now: number): Promise<void> {
    if ((await this.storage.getAlarm()) !== null) return;
    const oldest = this.sql
      .exec<{ kind: UsageKind; period: string | null }>(
        "SELECT kind, MIN(period) AS period FROM usage GROUP BY kind",
      )
      .toArray();
    let at = Number.POSITIVE_INFINITY;
    for (const { kind, period } of oldest) {
      if (period === null) continue;
      const end =
        kind === "day"
          ? Date.parse(`${period}T00:00:00Z`) + this.dailyDays() * DAY_MS
          : Date.parse(period) + 7 * DAY_MS + HOUR_MS;
      at = Math.min(at, end);
    }
    if (Number.isFinite(at)) {
      this.scheduledAt = Math.max(at, now + 1);
      await this.storage.setAlarm(this.scheduledAt);
    }
  }

  /** Usage of `from` to `to` (inclusive labels): the tables, with the live activity over them. */
  read(kind: UsageKind, from: string, to: string, activity: Activity): Record<string, DayCounts> {
    const periods: Record<string, DayCounts> = {};
    const rows = this.sql.exec<{ period: string; code: string; count: number }>(
      "SELECT period, code, count FROM usage WHERE kind = ? AND period BETWEEN ? AND ?",
      kind,
      from,
      to,
    );
    for (const row of rows) periods[row.period] = { ...periods[row.period], [row.code]: row.count };
    const live = (kind === "day" ? activity.days : activity.hours) ?? {};
    for (const [period, counts] of Object.entries(live)) {
      if (period < from || period > to) continue;
      const merged = periods[period] ?? {};
      periods[period] = merged;
      for (const [code, count] of Object.entries(counts)) merged[code] = Math.max(merged[code] ?? 0, count);
    }
    return periods;
  }
}
