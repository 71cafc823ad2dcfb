/**
 * How keys' objects and the admin API reach a workspace's context objects
 * (src/key-object/workspace-context.ts, docs/consistency.md#context), seen through
 * `WorkspaceContextApi`. A workspace has `CONTEXT_SHARDS` of them, named
 * `<workspaceId>:<shard>`; a key asks the shard its id hashes to, and a change reaches all of
 * them: a fixed number of calls whatever the number of keys.
 */
import { logEvent } from "../log";
import { unavailable } from "../refusals";
import type { ContextSubject, KeyContext } from "../storage/key-context";
import { shardOf } from "./shard";

/** Context objects per workspace: what a plan change, role edit or owner change costs in calls. */
export const CONTEXT_SHARDS = 8;

/** A key's context as a shard lends it: in force for `ms` from before the ask was sent. */
export interface LentContext {
  context: KeyContext;
  /** How long the asker may use it, counted from before it sent the ask, ms. */
  ms: number;
  /** The shard's version when it composed the context (raised by every change). */
  version: number;
}

/** What changed in D1: the part of the shards' copy to drop. */
export type ContextChange =
  | { kind: "workspace" }
  | { kind: "role"; name: string }
  | { kind: "owner"; ownerId: string };

export interface WorkspaceContextApi {
  /** The context of a key like `subject`, lent for at most `ms`. */
  lend(subject: ContextSubject, ms: number): Promise<LentContext>;
  /**
   * Drops what `change` made stale, then answers once every context lent before is over: from
   * the answer on, every key's object decides under contexts lent after the change.
   */
  invalidate(workspaceId: string, change: ContextChange): Promise<void>;
}

type ContextNamespace = Env["WORKSPACE_CONTEXT"];

/** The shard of a key (`shardOf`). */
export function contextShard(keyId: string): number {
  return shardOf(keyId, CONTEXT_SHARDS);
}

export function contextObjectOf(
  env: { WORKSPACE_CONTEXT: ContextNamespace },
  workspaceId: string,
  shard: number,
): WorkspaceContextApi {
  return env.WORKSPACE_CONTEXT.get(
    env.WORKSPACE_CONTEXT.idFromName(`${workspaceId}:${shard}`),
  ) as unknown as WorkspaceContextApi;
}

/** Where the admin API finds a workspace's shards; tests wrap it to count calls. */
export interface ContextDirectory {
  shard(workspaceId: string, shard: number): WorkspaceContextApi;
}

export function contextDirectory(namespace: ContextNamespace): ContextDirectory {
  return {
    shard: (workspaceId, shard) => contextObjectOf({ WORKSPACE_CONTEXT: namespace }, workspaceId, shard),
  };
}

/**
 * Brings a change written to D1 into force for every key of the workspace: all shards at once,
 * `CONTEXT_SHARDS` calls. A shard that fails answers 503: the change is stored, and a retry
 * (idempotent) completes it.
 */
export async function invalidateContexts(
  directory: ContextDirectory,
  workspaceId: string,
  change: ContextChange,
): Promise<void> {
  const results = await Promise.allSettled(
    Array.from({ length: CONTEXT_SHARDS }, (_, shard) =>
      directory.shard(workspaceId, shard).invalidate(workspaceId, change),
    ),
  );
  const failed = results.filter((result) => result.status === "rejected").length;
  if (failed > 0) {
    logEvent("error", "context_invalidate_failed", { failed, total: CONTEXT_SHARDS });
    throw unavailable("The change is stored but is not yet in force for every key. Retry to complete it.");
  }
}
