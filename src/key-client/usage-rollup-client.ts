/**
 * How the Worker and keys' objects reach a workspace's usage shards (usage-rollup.ts), seen
 * through `UsageRollupApi` (docs/consistency.md#usage).
 */
import type { Credits } from "../keys/record";
import type { DayCounts } from "../storage/usage";
import { shardOf } from "./shard";

/** Shards of a workspace's usage: what a workspace usage report costs in calls. */
export const ROLLUP_SHARDS = 8;
export type UsageKind = "day" | "hour";

/** What a key's object sends its shard: absolute totals of the periods that changed. */
export interface UsageFeed {
  keyId: string;
  days: Record<string, DayCounts>;
  hours: Record<string, DayCounts>;
  lastUsedAt: number | null;
  /** The balance as the object saw it at `at`, written to D1 with the last use. */
  credits: Credits | null;
  at: number;
  /** The key's usage imported from D1 after the upgrade: applied once, whatever its age. */
  imported: boolean;
}

/** A key's last use and balance as its object last fed them to its shard (at most 30 s old). */
export interface MemberState {
  lastUsedAt: number | null;
  credits: Credits | null;
  at: number;
}

export interface UsageRollupApi {
  feed(feed: UsageFeed): Promise<void>;
  members(keyIds: string[]): Promise<Record<string, MemberState>>;
  totals(kind: UsageKind, from: string, to: string): Promise<Record<string, DayCounts>>;
}

/** The shard of a key (`shardOf`). */
export function rollupShard(keyId: string): number {
  return shardOf(keyId, ROLLUP_SHARDS);
}

type RollupNamespace = Env["USAGE_ROLLUP"];

export function rollupOf(env: { USAGE_ROLLUP: RollupNamespace }, workspaceId: string, shard: number) {
  return env.USAGE_ROLLUP.get(
    env.USAGE_ROLLUP.idFromName(`${workspaceId}/${shard}`),
  ) as unknown as UsageRollupApi;
}

/** A workspace's usage: every shard asked, their sums added up. */
export async function workspaceUsage(
  env: { USAGE_ROLLUP: RollupNamespace },
  workspaceId: string,
  kind: UsageKind,
  from: string,
  to: string,
): Promise<Record<string, DayCounts>> {
  const shards = await Promise.all(
    Array.from({ length: ROLLUP_SHARDS }, (_, shard) =>
      rollupOf(env, workspaceId, shard).totals(kind, from, to),
    ),
  );
  const sums: Record<string, DayCounts> = {};
  for (const periods of shards) {
    for (const [period, counts] of Object.entries(periods)) {
      const sum = sums[period] ?? {};
      sums[period] = sum;
      for (const [code, count] of Object.entries(counts)) sum[code] = (sum[code] ?? 0) + count;
    }
  }
  return sums;
}

/**
 * The live last use and balance of `keys` (a page of a key listing), from their shards: D1 has
 * them only hourly. One call per workspace and shard on the page: at most 8 for one workspace.
 */
export async function liveMembers(
  env: { USAGE_ROLLUP: RollupNamespace },
  keys: { id: string; workspaceId: string }[],
): Promise<Record<string, MemberState>> {
  const groups = new Map<string, { workspaceId: string; shard: number; ids: string[] }>();
  for (const key of keys) {
    const shard = rollupShard(key.id);
    const name = `${key.workspaceId}/${shard}`;
    const group = groups.get(name) ?? { workspaceId: key.workspaceId, shard, ids: [] };
    group.ids.push(key.id);
    groups.set(name, group);
  }
  const found = await Promise.all(
    [...groups.values()].map((group) => rollupOf(env, group.workspaceId, group.shard).members(group.ids)),
  );
  return Object.assign({}, ...found);
}
