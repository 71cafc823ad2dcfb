/**
 * The scheduled step of the usage upgrade (docs/consistency.md#usage): usage an earlier revision
 * kept in D1 is imported by each key's object, on its first alarm or usage query; this step asks
 * the objects of keys that stay idle, a bounded number a run, so that every row moves.
 */
import { gateOf } from "../key-client/client";
import { logEvent } from "../log";
import { LEGACY_KEYS_PER_RUN, UsageStore } from "../storage/usage";

/** Asks up to `LEGACY_KEYS_PER_RUN` keys' objects to import their D1 usage; returns how many moved. */
export async function moveLegacyUsage(env: Pick<Env, "DB" | "KEY_GATE">): Promise<number> {
  const keyIds = await new UsageStore(env.DB).legacyKeys(LEGACY_KEYS_PER_RUN);
  let moved = 0;
  for (const keyId of keyIds) {
    try {
      await gateOf(env, keyId).importUsage(keyId);
      moved += 1;
    } catch (error) {
      logEvent("error", "usage_import_failed", { keyId, error: String(error) });
    }
  }
  return moved;
}
