/**
 * The capacity model (docs/capacity.md): D1 queries per second and D1 bytes, Durable Object calls
 * per second and bytes, as pure functions of a deployment's size, for BEFORE (the design up to
 * commit f7c1291: usage written to D1 by every active key's object every 30 s) and AFTER (today:
 * usage in each key's object and in its workspace's usage shards, last use and balance written to
 * D1 hourly per shard, the location's Cache API before D1 for lookups, keys' contexts lent by
 * their workspace's context shards instead of re-read from D1 and pushed to every key). `node bench/capacity.ts`
 * prints it; test/docs/capacity.test.ts checks its targets.
 *
 * Every constant names the file it comes from. The shard count is imported (its module runs in
 * plain Node); the others are copied, with their source, and test/docs/capacity.test.ts checks
 * the copies it can import against the code.
 */
import { ROLLUP_SHARDS } from "../src/key-client/usage-rollup-client.ts";

export type Design = "before" | "after";

/** A location keeps a lookup this long, s: src/storage/key-lookup-cache.ts KEY_LOOKUP_TTL_SECONDS. */
export const KEY_LOOKUP_TTL_SECONDS = 604_800;

export interface Params {
  /** Keys in use: each sees requests spread evenly over the active keys (requestsPerSecond / activeKeys each). */
  activeKeys: number;
  /** Key records in D1, active or not (deleted keys too: their rows stay as tombstones). */
  totalKeys: number;
  requestsPerSecond: number;
  /** Admin changes (create, update, revoke, rotate, role edits...) per second. */
  adminChangesPerSecond: number;
  /** Keys created per second (churn): each is new to every location that serves it. */
  newKeysPerSecond: number;
  /**
   * Keys a location meets that it has not read within `lookupTtlSeconds` (its Cache API
   * misses), per location and second. Depends on keys, churn and locations, not on traffic;
   * `undefined`: derived by `firstSeenPerLocation` (each active key's entry expires once a TTL
   * at each location serving it, plus new keys).
   */
  firstSeenPerLocationPerSecond?: number;
  /** Cloudflare locations (data centres) serving traffic. */
  locations: number;
  /** How long a location keeps a lookup, s (`KEY_LOOKUP_TTL_SECONDS`). */
  lookupTtlSeconds: number;
  /** Locations each active key's traffic arrives at within a day. */
  locationsPerKey: number;
  /** Workspaces with active keys; active keys are spread evenly over them. */
  workspaces: number;
  /** `retention.dailyUsageDays` (src/policy/schema.ts DEFAULT_DAILY_USAGE_DAYS = 400). */
  dailyUsageDays: number;
  /** Hourly usage kept, days (src/key-object/usage-periods.ts HOURLY_RETENTION_MS: 7 days). */
  hourlyUsageDays: number;
  /** Events kept, days (src/services/events.ts EVENT_RETENTION_MS: 30 days). */
  eventRetentionDays: number;
  /** Outcome codes (`valid`, `rate_limited`, ...) a key sees in a day: one usage row each per day. */
  codesPerKeyPerDay: number;
  /** The same in an hour: one hourly row each. */
  codesPerKeyPerHour: number;
  /** Events raised per day (admin and counter events). */
  eventsPerDay: number;
  /** Webhooks each event goes to. */
  webhooks: number;
  /** Audit entries per day (one per admin change; kept for ever: no retention). */
  auditEntriesPerDay: number;
  /** `leases.ms` (docs/consistency.md#leases, default 1000). */
  leaseMs: number;
  /** Requests one isolate serves per second: isolates per location = max(1, load / this). */
  isolateRequestsPerSecond: number;
  /** How long an isolate lives, s (its own cache of lookups is lost with it). */
  isolateLifetimeSeconds: number;
  /** Share of active keys with roles or an owner: BEFORE, their object re-read their context from D1. */
  contextKeyShare: number;
  /** Plan changes, role edits and `PUT /owners` per second (part of `adminChangesPerSecond`). */
  contextChangesPerSecond: number;
  /** Share of active keys whose owner has limits or credits: the owner's object counts their calls. */
  ownerMeteredShare: number;
}

/** The default scenario: the targets are checked here (docs/capacity.md#the-default-scenario). */
export const DEFAULTS: Params = {
  activeKeys: 1_000_000,
  totalKeys: 1_000_000,
  requestsPerSecond: 100_000,
  adminChangesPerSecond: 0.05,
  newKeysPerSecond: 0.02,
  locations: 300,
  lookupTtlSeconds: KEY_LOOKUP_TTL_SECONDS,
  locationsPerKey: 2,
  workspaces: 1_000,
  dailyUsageDays: 400,
  hourlyUsageDays: 7,
  eventRetentionDays: 30,
  codesPerKeyPerDay: 2,
  codesPerKeyPerHour: 1,
  eventsPerDay: 10_000,
  webhooks: 1,
  auditEntriesPerDay: 0.05 * 86_400,
  leaseMs: 1_000,
  isolateRequestsPerSecond: 200,
  isolateLifetimeSeconds: 600,
  contextKeyShare: 0,
  contextChangesPerSecond: 0.01,
  ownerMeteredShare: 0,
};

// Constants of the code, with their source.
/** A key's usage reaches D1 (before) or its shard (after) at most this long after a request, s: src/key-object/usage.ts FLUSH_DELAY_MS. */
export const FLUSH_S = 30;
/** BEFORE: a key with roles or an owner re-read its context from D1 this often while asked, s (ROLE_REFRESH_MS, removed). */
export const CONTEXT_REFRESH_S = 30;
/** Context shards per workspace: src/key-client/context-client.ts CONTEXT_SHARDS. */
export const CONTEXT_SHARDS = 8;
/** BEFORE: keys' objects a plan change or role edit pushed to at once (src/services/fan-out.ts PUSH_CONCURRENCY, removed). */
export const PUSH_CONCURRENCY = 16;
/**
 * AFTER: how often a context shard in use starts afresh (and reads its rows from D1 again), s.
 * An assumption, not a figure of the code: a shard asked every lease length stays in memory;
 * Cloudflare restarts objects on a deployment or when it moves them. Once a day.
 */
export const CONTEXT_SHARD_LIFETIME_S = 86_400;
/** Last use and balance are written per shard this often, s: src/key-object/usage-rollup.ts LAST_USED_WRITE_MS. */
export const LAST_USED_WRITE_S = 3_600;
/** Keys per D1 statement of that write: src/key-object/usage-rollup.ts WRITE_BATCH. */
const WRITE_BATCH = 500;
/** A lease stops being used a tenth of it (at most 100 ms) before its end: src/key-client/lease-holder.ts REPORT_MARGIN_MS. */
const REPORT_MARGIN_MS = 100;
/** The cron runs every minute: wrangler.toml [triggers]. */
const CRON_S = 60;
const DAY_S = 86_400;
const MONTH_DAYS = 30.44;

export const GB = 1e9;
/** The targets (docs/capacity.md#targets): D1 queries per second, D1's steady-state bytes. */
export const TARGET_D1_QUERIES_PER_SECOND = 10;
export const TARGET_D1_BYTES = 2 * GB;
/** Cloudflare D1: one database, one thread, about 1 ms a query; 10 GB at most. */
export const D1_QUERIES_PER_SECOND = 1_000;
export const D1_MAX_BYTES = 10 * GB;
/** One Durable Object: about 1,000 calls a second; 10 GB of storage. */
export const DO_CALLS_PER_SECOND = 1_000;
export const DO_MAX_BYTES = 10 * GB;

// ---------------------------------------------------------------------------------------------
// Row sizes. SQLite stores a row as a record: a header (its size, then one serial type per
// column: 1 byte each here) and the values (INTEGER: 0 bytes for 0 and 1, 6 bytes for an epoch
// ms, 1-3 for small counts; TEXT: its UTF-8 length; NULL: 0), in a B-tree cell that adds the
// payload length and rowid varints and a 2-byte cell pointer (8 bytes together). Each index
// holds one more such record per row: its columns and the rowid. Pages are not full: a B-tree
// filled in key order (rowid, seq) keeps about 90% of each page, one filled in random order (a
// hash, a random id) about 70%. Value sizes are the ids' formats (`key_` + 20 base62...) and
// typical JSON of docs/storage-schema.md's example.
// ---------------------------------------------------------------------------------------------

const CELL = 8;
const ROWID = 4;
const ORDERED_FILL = 0.9;
const RANDOM_FILL = 0.7;

/** Bytes of one row or index entry holding these values. */
function record(values: number[]): number {
  return 1 + values.length + values.reduce((sum, bytes) => sum + bytes, 0) + CELL;
}

/** A table filled in `fill` order plus its indexes (entries in random order), per row. */
function stored(table: number[], indexes: number[][], fill = ORDERED_FILL): number {
  const index = indexes.reduce((sum, columns) => sum + record([...columns, ROWID]), 0);
  return record(table) / fill + index / RANDOM_FILL;
}

/**
 * A D1 `keys` row (migrations/0001_init.sql, 0010): id 24, hash 64, workspace_id 23, type 6,
 * start 12, name 12, owner_id 8 on average, permissions 33, roles 2, meta 2, plan NULL, limits
 * 24, credits 20 on average, ip_allowlist 2, enabled 0, expires_at and revoked_at NULL,
 * created_at, updated_at, last_used_at 6 each, rotated_from and deleted_at NULL, created_by 15;
 * indexes: the primary key's (id), keys_by_hash, keys_by_workspace (workspace, created_at, id),
 * keys_by_owner (workspace, owner).
 */
export const KEY_ROW_BYTES = stored(
  [24, 64, 23, 6, 12, 12, 8, 33, 2, 2, 0, 24, 20, 2, 0, 0, 0, 6, 6, 6, 0, 0, 15],
  [[24], [64], [23, 6, 24], [23, 8]],
);

/** A `workspaces` row: id 23, name 16, plan 4, external_id 12, two times; the id's and external_id's indexes. */
export const WORKSPACE_ROW_BYTES = stored([23, 16, 4, 6, 6, 12], [[23], [12]]);

/** A D1 `key_usage` row (migrations/0003_usage.sql): key_id 24, day 10, code 6, count 3; its primary key's index. */
export const DAILY_USAGE_ROW_BYTES = stored([24, 10, 6, 3], [[24, 10, 6]], RANDOM_FILL);

/** A D1 `key_usage_hourly` row (migrations/0004_hourly_usage.sql): the hour is 20 characters. */
export const HOURLY_USAGE_ROW_BYTES = stored([24, 20, 6, 3], [[24, 20, 6]], RANDOM_FILL);

/**
 * An event (migrations/0006_events.sql, 0008, 0009): seq, id 24, type 12, at 6, workspace 23,
 * data 200 (the key's identity and the event's fields), dispatched 0; indexes on id,
 * (workspace, at), (dispatched, at), at; and one `event_deliveries` row per webhook (event_id
 * 24, webhook 0-1, status 9, attempts 1, last_attempt_at 6, retry_at 0) with its primary key's.
 */
export function eventBytes(webhooks: number): number {
  const event = stored([0, 24, 12, 6, 23, 200, 0], [[24], [23, 6], [0, 6], [6]]);
  const delivery = stored([24, 1, 9, 1, 6, 0], [[24, 1]], RANDOM_FILL);
  return event + webhooks * delivery;
}

/**
 * An audit entry (migrations/0001_init.sql): seq, id 24, at 6, workspace 23, actor_type 9,
 * actor_id 24, action 10, target_id 24, request_id 36, before and after 700 together (a key
 * record's JSON is about 450 bytes; a create has no `before`); indexes on id and (workspace, seq).
 */
export const AUDIT_ROW_BYTES = stored([0, 24, 6, 23, 9, 24, 10, 24, 36, 700], [[24], [23, 0]]);

/**
 * A key object's values (docs/consistency.md#operation-limits: "under 2 KB of values": state,
 * meters, eventMarks) and one row of its `usage` table (src/key-object/usage.ts SCHEMA: kind 4,
 * period 10 or 20, code 6, count 3, fed 3; its primary key's index).
 */
export const KEY_OBJECT_VALUES_BYTES = 2_000;
const OBJECT_DAY_ROW_BYTES = stored([4, 10, 6, 3, 3], [[4, 10, 6]], RANDOM_FILL);
const OBJECT_HOUR_ROW_BYTES = stored([4, 20, 6, 3, 3], [[4, 20, 6]], RANDOM_FILL);

/**
 * A usage shard (src/key-object/usage-rollup.ts SCHEMA): `key_totals` rows (key_id 24, kind 4,
 * period 10/20, code 6, count 3) for 3 days of a key's periods (LIVE_MS), a `members` row per key
 * (key_id 24, last_used_at 6, credits 40, at 6, imported 1, dirty 1), `sums` rows per period and code.
 */
const SHARD_TOTAL_DAY_BYTES = stored([24, 4, 10, 6, 3], [[24, 4, 10, 6]], RANDOM_FILL);
const SHARD_TOTAL_HOUR_BYTES = stored([24, 4, 20, 6, 3], [[24, 4, 20, 6]], RANDOM_FILL);
const SHARD_MEMBER_BYTES = stored([24, 6, 40, 6, 1, 1], [[24]], RANDOM_FILL);
const SHARD_LIVE_DAYS = 3;

// ---------------------------------------------------------------------------------------------
// Traffic shapes.
// ---------------------------------------------------------------------------------------------

/** Requests per second of one active key. */
export function perKeyRate(p: Params): number {
  return p.requestsPerSecond / p.activeKeys;
}

/**
 * How often something "at most every `period` s after a request" happens for one key: after it
 * runs, the next request (Poisson, rate r) arrives on average 1/r later and it runs `period`
 * after: r / (1 + period·r). A key under steady load: 1/period; a key seldom used: once a request.
 */
export function afterRequestRate(rate: number, period: number): number {
  return rate / (1 + period * rate);
}

/** Isolates in each location serving traffic. */
export function isolatesPerLocation(p: Params): number {
  return Math.max(1, p.requestsPerSecond / (p.locations * p.isolateRequestsPerSecond));
}

/** Isolates that serve a key at a time (its locations' isolates), and its rate in each. */
function isolateShare(p: Params): { pairs: number; rate: number } {
  const pairs = p.activeKeys * p.locationsPerKey * isolatesPerLocation(p);
  return { pairs, rate: p.requestsPerSecond / pairs };
}

/** Cache API misses per location and second (the parameter, or derived: see `Params`). */
export function firstSeenPerLocation(p: Params): number {
  if (p.firstSeenPerLocationPerSecond !== undefined) return p.firstSeenPerLocationPerSecond;
  const expiring = (p.activeKeys * p.locationsPerKey) / p.lookupTtlSeconds;
  return (expiring + p.newKeysPerSecond * p.locationsPerKey) / p.locations;
}

// ---------------------------------------------------------------------------------------------
// D1 queries per second.
// ---------------------------------------------------------------------------------------------

export interface D1Load {
  /** Hash lookups of the request path. */
  lookups: number;
  /** Usage rows, last use and balance. */
  usage: number;
  /** Keys' objects re-reading their context (roles, owner, plan). */
  context: number;
  /** Admin changes: the change and its audit entry, and the read before it. */
  admin: number;
  /** Events: the insert and the consumer's delivery bookkeeping. */
  events: number;
  /** The minute's cron: event sweep and prune, the usage import's look for keys. */
  crons: number;
  total: number;
}

/**
 * D1 lookups of the request path. BEFORE: each isolate read D1 for every key it met first
 * (src/services/verify-key.ts at f7c1291): an isolate of a location serving a key at rate q
 * meets it within its lifetime T with probability 1 - e^(-qT), and isolates are replaced every T.
 * AFTER: an isolate asks its location's Cache API first (src/storage/key-lookup-cache.ts); D1 is
 * read once per key and location per TTL, and for each new key.
 */
export function lookupsPerSecond(p: Params, design: Design): number {
  if (design === "after") return firstSeenPerLocation(p) * p.locations;
  const { pairs, rate } = isolateShare(p);
  const T = p.isolateLifetimeSeconds;
  return (pairs * (1 - Math.exp(-rate * T))) / T + p.newKeysPerSecond * p.locationsPerKey;
}

/**
 * Usage writes. BEFORE (src/key-object/usage.ts at f7c1291, WriteBehind.flush): each flush of a
 * key's object, at most 30 s after a request, wrote one batch: the last use and balance (one
 * UPDATE), the day's row per code seen today, the hour's row per code seen this hour, and a
 * prune of the key's old hours: 2 + codes/day + codes/hour statements.
 * AFTER (src/key-object/usage-rollup.ts alarm): each shard with keys fed in the hour writes their
 * last use and balance in one statement per 500 keys, once an hour; keys' objects write nothing.
 */
export function usageWritesPerSecond(p: Params, design: Design): number {
  const rate = perKeyRate(p);
  if (design === "before") {
    const statements = 2 + p.codesPerKeyPerDay + p.codesPerKeyPerHour;
    return p.activeKeys * afterRequestRate(rate, FLUSH_S) * statements;
  }
  const keysPerWorkspace = p.activeKeys / p.workspaces;
  const shardsUsed = ROLLUP_SHARDS * (1 - (1 - 1 / ROLLUP_SHARDS) ** keysPerWorkspace);
  const fedInHour = 1 - Math.exp(-rate * LAST_USED_WRITE_S);
  const keysPerShard = (keysPerWorkspace * fedInHour) / shardsUsed;
  const statementsPerShard = Math.ceil(keysPerShard / WRITE_BATCH);
  return (p.workspaces * shardsUsed * statementsPerShard) / LAST_USED_WRITE_S;
}

/**
 * Reads of keys' contexts (workspace plan, roles, owner). BEFORE (src/key-object/context-refresh.ts,
 * removed): a key with roles or an owner re-read its context when asked 30 s or more after the
 * last read: the workspace, its roles, its owner: 3 queries (2 without an owner).
 * AFTER (src/key-object/workspace-context.ts): a context shard reads a row once and keeps it; it
 * reads again the rows a change dropped (the workspace's, the roles', an owner's: at most 3
 * queries per shard and change) and everything after it starts (2 queries, plus one per owner
 * of its keys). Nothing depends on requests.
 */
export function contextReadsPerSecond(p: Params, design: Design): number {
  if (design === "before") {
    const keys = p.activeKeys * p.contextKeyShare;
    const queries = p.ownerMeteredShare > 0 ? 3 : 2;
    return keys * afterRequestRate(perKeyRate(p), CONTEXT_REFRESH_S) * queries;
  }
  const shards = p.workspaces * CONTEXT_SHARDS;
  const starts = (shards * 2 + p.activeKeys * p.ownerMeteredShare) / CONTEXT_SHARD_LIFETIME_S;
  return starts + p.contextChangesPerSecond * CONTEXT_SHARDS * 3;
}

/**
 * An admin change: one read (the record or the workspace) and one batch of the change and its
 * audit entry (src/key-object/ordered-writes.ts writeD1; its events are counted as events).
 */
export const ADMIN_QUERIES = 3;

/**
 * One event: its insert (src/key-object/events.ts, or the admin change's batch), then the
 * consumer (src/services/webhook-delivery.ts): `dispatch` (1 + webhooks statements), the
 * deliveries' read, one `attempted` per webhook: 3 + 2 × webhooks.
 */
export function eventQueries(webhooks: number): number {
  return 3 + 2 * webhooks;
}

/**
 * The cron, every minute (src/index.ts scheduled). BEFORE: the sweep's read of undispatched
 * events and the prune's two deletes. AFTER: also the read of stalled deliveries
 * (src/services/events.ts) and the look for keys with usage still in D1
 * (src/services/usage-upgrade.ts; each found key costs its import once, not counted here).
 */
export function cronQueriesPerSecond(design: Design): number {
  return (design === "before" ? 3 : 5) / CRON_S;
}

export function d1Load(p: Params, design: Design): D1Load {
  const load = {
    lookups: lookupsPerSecond(p, design),
    usage: usageWritesPerSecond(p, design),
    context: contextReadsPerSecond(p, design),
    admin: p.adminChangesPerSecond * ADMIN_QUERIES,
    events: (p.eventsPerDay * eventQueries(p.webhooks)) / DAY_S,
    crons: cronQueriesPerSecond(design),
  };
  return { ...load, total: Object.values(load).reduce((sum, value) => sum + value, 0) };
}

// ---------------------------------------------------------------------------------------------
// D1 storage.
// ---------------------------------------------------------------------------------------------

export interface D1Storage {
  /** Key records (deleted ones stay as tombstones) and workspaces. */
  keys: number;
  /** Usage rows that retention bounds (BEFORE: 7 days of hourly rows; AFTER: none in D1). */
  usage: number;
  /** Events of the last `eventRetentionDays`, with their deliveries. */
  events: number;
  /** What D1 holds once every retention is full, before what nothing removes. */
  steady: number;
  /**
   * What D1 grows by each month with nothing ever removing it: the audit log (no retention),
   * and BEFORE the daily usage rows (never removed).
   */
  growthPerMonth: number;
  /** Months until D1 holds `TARGET_D1_BYTES` (0: the steady state alone exceeds it). */
  monthsToTarget: number;
}

export function d1Storage(p: Params, design: Design): D1Storage {
  const keys = p.totalKeys * KEY_ROW_BYTES + p.workspaces * WORKSPACE_ROW_BYTES;
  const events = p.eventsPerDay * p.eventRetentionDays * eventBytes(p.webhooks);
  const usage =
    design === "before"
      ? p.activeKeys * p.codesPerKeyPerHour * 24 * p.hourlyUsageDays * HOURLY_USAGE_ROW_BYTES
      : 0;
  const dailyRows = design === "before" ? p.activeKeys * p.codesPerKeyPerDay * DAILY_USAGE_ROW_BYTES : 0;
  const growthPerMonth = (p.auditEntriesPerDay * AUDIT_ROW_BYTES + dailyRows) * MONTH_DAYS;
  const steady = keys + usage + events;
  return {
    keys,
    usage,
    events,
    steady,
    growthPerMonth,
    monthsToTarget: Math.max(0, (TARGET_D1_BYTES - steady) / growthPerMonth),
  };
}

// ---------------------------------------------------------------------------------------------
// Durable Objects.
// ---------------------------------------------------------------------------------------------

export interface DoLoad {
  /** Calls to keys' objects: requests without a lease, lease grants and reports, alarms, admin changes. */
  keys: number;
  /** Calls to owners' objects. */
  owners: number;
  /** Calls to usage shards: feeds and hourly alarms. */
  shards: number;
  /** Calls to context shards (AFTER): keys' context asks, and each change's call to every shard. */
  contexts: number;
  total: number;
  /** The busiest single object of each kind, calls per second (about 1,000 is one object's limit). */
  perKey: number;
  perShard: number;
  perContextShard: number;
}

/**
 * AFTER: context asks (src/key-object/context-lease.ts). A key's object holds its context for
 * `leaseMs` from its ask and asks again for the first decision after that, or before lending a
 * lease when less than half of it is left: for a key whose object decides at rate q (requests
 * without a lease, and lease asks: half of `leasedCallsPerSecond`), q / (1 + q·L/2), at most
 * 2 / L. With leases off, every decision asks.
 */
export function contextAsksPerSecond(p: Params): number {
  if (p.leaseMs === 0) return p.requestsPerSecond;
  const decided = leasedCallsPerSecond(p) / 2;
  return p.activeKeys * afterRequestRate(decided / p.activeKeys, p.leaseMs / 2 / 1_000);
}

/**
 * What one plan change, role edit or `PUT /owners` costs, for a workspace of `keys` keys.
 * BEFORE (src/services/fan-out.ts, removed): a call to every key's object (more for the isolate's
 * own leases), `PUSH_CONCURRENCY` at a time, each waiting for the key's leases: up to
 * ceil(keys / 16) lease lengths. AFTER: one call to each context shard, all at once, waiting
 * at most one lease length.
 */
export function changeCost(keys: number, p: Params, design: Design): { calls: number; waitSeconds: number } {
  if (design === "before") {
    return { calls: keys, waitSeconds: (Math.ceil(keys / PUSH_CONCURRENCY) * p.leaseMs) / 1_000 };
  }
  return { calls: CONTEXT_SHARDS, waitSeconds: p.leaseMs / 1_000 };
}

/**
 * Calls to keys' objects from requests, with leases (docs/consistency.md#leases,
 * src/key-client/lease-holder.ts): an isolate holds one lease per key, asks for it when a
 * request finds none and reports it at its end (a second call), so an (isolate, key) pair with
 * rate q costs two calls per lease, and leases start at rate q / (1 + q·L) (a lease covers L,
 * its length less the report margin). Under load: 2 / L per pair; seldom used: 2 per request.
 * A key's first request in an isolate asks for no lease (one call, not two): ignored, a bound.
 * The same in both designs.
 */
export function leasedCallsPerSecond(p: Params): number {
  if (p.leaseMs === 0) return p.requestsPerSecond;
  const covered = (p.leaseMs - Math.min(REPORT_MARGIN_MS, p.leaseMs / 10)) / 1_000;
  const { pairs, rate } = isolateShare(p);
  return (pairs * 2 * rate) / (1 + rate * covered);
}

export function doLoad(p: Params, design: Design): DoLoad {
  const flushes = p.activeKeys * afterRequestRate(perKeyRate(p), FLUSH_S);
  const requests = leasedCallsPerSecond(p);
  const keys = requests + flushes + p.adminChangesPerSecond;
  const owners = requests * p.ownerMeteredShare;
  const shardCount = p.workspaces * ROLLUP_SHARDS;
  const shards = design === "after" ? flushes + shardCount / LAST_USED_WRITE_S : 0;
  const perShard = design === "after" ? shards / shardCount : 0;
  const keysPerWorkspace = p.activeKeys / p.workspaces;
  const pushes = p.contextChangesPerSecond * changeCost(keysPerWorkspace, p, design).calls;
  const contexts = design === "after" ? contextAsksPerSecond(p) + pushes : 0;
  const keyCalls = keys + (design === "before" ? pushes : 0);
  return {
    keys: keyCalls,
    owners,
    shards,
    contexts,
    total: keyCalls + owners + shards + contexts,
    perKey: keyCalls / p.activeKeys,
    perShard,
    perContextShard: contexts / (p.workspaces * CONTEXT_SHARDS),
  };
}

export interface DoStorage {
  /** One key's object after its retention is full (a key used every day). */
  perKey: number;
  /** One usage shard. */
  perShard: number;
}

export function doStorage(p: Params, design: Design): DoStorage {
  if (design === "before") return { perKey: KEY_OBJECT_VALUES_BYTES, perShard: 0 };
  const perKey =
    KEY_OBJECT_VALUES_BYTES +
    p.codesPerKeyPerDay * p.dailyUsageDays * OBJECT_DAY_ROW_BYTES +
    p.codesPerKeyPerHour * 24 * p.hourlyUsageDays * OBJECT_HOUR_ROW_BYTES;
  const keysPerShard = p.activeKeys / (p.workspaces * ROLLUP_SHARDS);
  const perShardKey =
    p.codesPerKeyPerDay * SHARD_LIVE_DAYS * SHARD_TOTAL_DAY_BYTES +
    p.codesPerKeyPerHour * 24 * SHARD_LIVE_DAYS * SHARD_TOTAL_HOUR_BYTES +
    SHARD_MEMBER_BYTES;
  const sums =
    (p.codesPerKeyPerDay * p.dailyUsageDays + p.codesPerKeyPerHour * 24 * p.hourlyUsageDays) *
    OBJECT_HOUR_ROW_BYTES;
  return { perKey, perShard: keysPerShard * perShardKey + sums };
}

// ---------------------------------------------------------------------------------------------
// Targets (docs/capacity.md#targets).
// ---------------------------------------------------------------------------------------------

export interface Targets {
  /** D1 queries per second are the same at 100 times the requests (same keys). */
  independentOfTraffic: boolean;
  d1QueriesPerSecond: number;
  d1QueriesUnderTarget: boolean;
  /** Steady-state bytes (growth per month apart: see `d1Storage`). */
  d1Bytes: number;
  d1BytesUnderTarget: boolean;
}

export function targets(p: Params, design: Design): Targets {
  const load = d1Load(p, design).total;
  const more = d1Load({ ...p, requestsPerSecond: p.requestsPerSecond * 100 }, design).total;
  const bytes = d1Storage(p, design).steady;
  return {
    independentOfTraffic: Math.abs(more - load) <= 1e-9 * Math.max(1, load),
    d1QueriesPerSecond: load,
    d1QueriesUnderTarget: load < TARGET_D1_QUERIES_PER_SECOND,
    d1Bytes: bytes,
    d1BytesUnderTarget: bytes < TARGET_D1_BYTES,
  };
}

/** The scenarios of the table: 10^4, 10^5, 10^6 active keys by 10^3, 10^4, 10^5 requests/s. */
export function scenarios(base: Params = DEFAULTS): Params[] {
  const list: Params[] = [];
  for (const activeKeys of [1e4, 1e5, 1e6]) {
    for (const requestsPerSecond of [1e3, 1e4, 1e5]) {
      list.push({ ...base, activeKeys, totalKeys: Math.max(base.totalKeys, activeKeys), requestsPerSecond });
    }
  }
  return list;
}
