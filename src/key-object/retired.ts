/**
 * A rotated key in its grace period (docs/admin-api.md, rotation): its own state decides rows
 * 5-10 (so it expires when the grace ends), and its successor counts it, so both keys draw on
 * one set of limits, quotas and credits. Every decision is recorded in the usage of the key the
 * request presented (the first of a chain of rotations records it).
 */
import { decide, type GateCheck } from "../decision/decide";
import type { KeyGateApi } from "../key-client/client";
import type { AuthorizeOutcome } from "../key-client/contract";
import { identityOf } from "../keys/record";
import type { KeyTypePolicy } from "../policy/compiled";
import type { KeyCell, KeyState } from "./cell";
import { recordActivity, type UsageBook } from "./usage";

export async function authorizeRetired(
  parts: { cell: KeyCell; usage: UsageBook; now: () => number },
  state: KeyState,
  successor: KeyGateApi,
  check: GateCheck,
  policy: KeyTypePolicy,
): Promise<AuthorizeOutcome> {
  const { cell, usage, now } = parts;
  const own = decide(state, cell.meters.counters, { ...check, consume: false }, policy, now());
  let decision = own.decision;
  if (decision.code === "valid") {
    const presented = check.presented ?? state.record.id;
    const shared = await successor.authorize({ ...check, presented }, policy);
    if (!shared) return null;
    decision = shared.decision;
  }
  if (check.consume && check.presented === undefined) {
    const at = now();
    const activity = recordActivity(cell.meters.activity, decision.code, at);
    await cell.setMeters({ ...cell.meters, activity }, false);
    await usage.schedule(at);
  }
  return { decision, record: identityOf(state.record) };
}
