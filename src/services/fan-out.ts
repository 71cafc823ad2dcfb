/**
 * Pushes a workspace or role change to the Durable Objects of the keys it affects, so that it
 * is in force for those keys before the admin call returns.
 */

import type { GateDirectory } from "../key-object/client";
import type { ContextChange } from "../key-object/contract";
import { logEvent } from "../log";
import { unavailable } from "../refusals";

/** Objects updated at once during a push. */
const PUSH_CONCURRENCY = 16;

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
