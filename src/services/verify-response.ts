/**
 * The bodies of the decision answers: `P/v1/verify` (docs/admin-api.md, also the 200 body of
 * decision-only mode) and `P/v1/self`.
 */
import type { KeyDecision } from "../decision/decide";
import type { KeyIdentity } from "../keys/record";
import { tightest, type WindowStatus, windowName } from "../limits/windows";

interface WindowView {
  window: string;
  limit: number;
  remaining: number;
  /** Seconds until one more request is allowed. */
  reset: number;
}

export interface VerifyResponse {
  valid: boolean;
  code: string;
  keyId?: string;
  workspaceId?: string;
  type?: string;
  ownerId?: string | null;
  permissions?: string[];
  plan?: string | null;
  meta?: KeyIdentity["meta"];
  expiresAt?: string | null;
  ratelimit?: WindowView;
  credits?: { remaining: number };
}

function windowView(status: WindowStatus): WindowView {
  return {
    window: windowName(status),
    limit: status.limit,
    remaining: status.remaining,
    reset: status.reset,
  };
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function verifyResponse(
  code: string,
  record: KeyIdentity | null,
  decision: KeyDecision | null,
): VerifyResponse {
  const body: VerifyResponse = { valid: code === "valid", code };
  if (!record) return body;
  const tight = decision ? tightest(decision.usage.windows) : null;
  const credits = decision?.usage.credits;
  return {
    ...body,
    keyId: record.id,
    workspaceId: record.workspaceId,
    type: record.type,
    ownerId: record.ownerId,
    permissions: decision?.permissions ?? [],
    plan: decision?.plan ?? null,
    meta: record.meta,
    expiresAt: isoOrNull(record.expiresAt),
    ...(tight && { ratelimit: windowView(tight) }),
    ...(credits && { credits: { remaining: credits.remaining } }),
  };
}

/** `GET P/v1/self`: the caller's key, its limits and its credits; consumes nothing. */
export function selfResponse(record: KeyIdentity, decision: KeyDecision) {
  return {
    keyId: record.id,
    workspaceId: record.workspaceId,
    type: record.type,
    plan: decision.plan,
    expiresAt: isoOrNull(record.expiresAt),
    limits: decision.usage.windows.map(windowView),
    credits: decision.usage.credits,
  };
}
