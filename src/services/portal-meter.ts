/**
 * A portal member's budgets (docs/portal.md#limits): 300 calls and 30 writes a minute, counted
 * exactly by one Durable Object per member and workspace (an `OwnerGate` addressed apart from
 * the member's owner object, so that no owner setting of the provider's touches it).
 */
import { failClosed } from "../fail-closed";
import type { PortalCallLimits, PortalMeterApi } from "../key-client/owner-client";
import { Refusal } from "../refusals";

export const PORTAL_CALL_LIMITS: PortalCallLimits = { calls: 300, writes: 30 };

/** The name of the object that counts `subject`'s portal calls in `workspaceId`. */
export function memberMeterName(workspaceId: string, subject: string): string {
  return `portal/${workspaceId}/${subject}`;
}

/** Counts one call (and one write when `write`); a call over a budget is 429 `rate_limited`. */
export async function countPortalCall(
  env: Pick<Env, "OWNER_GATE">,
  workspaceId: string,
  subject: string,
  write: boolean,
): Promise<void> {
  const namespace = env.OWNER_GATE;
  const meter = namespace.get(
    namespace.idFromName(memberMeterName(workspaceId, subject)),
  ) as unknown as PortalMeterApi;
  const outcome = await failClosed(meter.portalCall(PORTAL_CALL_LIMITS, write));
  if (outcome.allowed) return;
  const detail = outcome.writes
    ? `A member may make ${PORTAL_CALL_LIMITS.writes} portal changes a minute; see Retry-After.`
    : `A member may make ${PORTAL_CALL_LIMITS.calls} portal calls a minute; see Retry-After.`;
  throw new Refusal("rate_limited", detail, { headers: { "Retry-After": String(outcome.retryAfter) } });
}
