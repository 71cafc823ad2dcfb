/**
 * Pushes a workspace or role change to the Durable Objects of the keys it affects, so that it
 * is in force for those keys before the admin call returns.
 */

import type { GateDirectory } from "../key-client/client";
import type { ContextChange } from "../key-client/contract";
import type { LeaseHolder } from "../key-client/lease-holder";
import { logEvent } from "../log";
import type { KeyTypePolicy } from "../policy/compiled";
import { unavailable } from "../refusals";

/** Objects updated at once during a push. */
const PUSH_CONCURRENCY = 16;

/** This isolate's leases, and the policy of each key type (to report a lease under). */
export interface OwnLeases {
  holder: LeaseHolder;
  policyOf: (type: string) => KeyTypePolicy;
}

/**
 * Settles this isolate's leases of the keys of `ids` with their objects before a change that
 * reaches them, as a key change does: the change then waits only for other isolates' leases
 * (docs/consistency.md#leases). A key this isolate holds no lease of costs no call. A failure
 * leaves that lease to run out: the change goes ahead either way.
 */
export async function handBackLeases(
  gates: GateDirectory,
  ids: readonly string[],
  own: OwnLeases,
): Promise<void> {
  for (let start = 0; start < ids.length; start += PUSH_CONCURRENCY) {
    const batch = ids.slice(start, start + PUSH_CONCURRENCY);
    await Promise.all(
      batch.map((id) => own.holder.surrender(id, gates.forKey(id), own.policyOf).catch(() => undefined)),
    );
  }
}

/** Pushes `change` to every key of `ids`; a push that fails for any key answers 503. */
export async function pushToKeys(
  gates: GateDirectory,
  ids: readonly string[],
  change: ContextChange,
): Promise<void> {
  let failed = 0;
  for (let start = 0; start < ids.length; start += PUSH_CONCURRENCY) {
    const batch = ids.slice(start, start + PUSH_CONCURRENCY);
    const results = await Promise.allSettled(batch.map((id) => gates.forKey(id).updateContext(change)));
    failed += results.filter((result) => result.status === "rejected").length;
  }
  if (failed > 0) {
    logEvent("error", "push_failed", { failed, total: ids.length });
    throw unavailable(
      `The change is stored but ${failed} of ${ids.length} keys could not be updated yet; they pick it up within 30 s. Retry to be sure.`,
    );
  }
}
