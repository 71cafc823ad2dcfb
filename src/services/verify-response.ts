/**
 * The body of a verify answer (SPEC 7), also the 200 body of decision-only mode.
 */
import type { KeyDecision } from "../gate/decide";
import type { Json, KeyRecord } from "../keys/record";

export interface VerifyResponse {
  valid: boolean;
  code: string;
  keyId?: string;
  workspaceId?: string;
  type?: string;
  ownerId?: string | null;
  permissions?: string[];
  plan?: string | null;
  meta?: Record<string, Json>;
  expiresAt?: string | null;
}

export function verifyResponse(
  code: string,
  record: KeyRecord | null,
  decision: KeyDecision | null,
): VerifyResponse {
  const body: VerifyResponse = { valid: code === "valid", code };
  if (!record) return body;
  return {
    ...body,
    keyId: record.id,
    workspaceId: record.workspaceId,
    type: record.type,
    ownerId: record.ownerId,
    permissions: decision?.permissions ?? [],
    plan: decision?.plan ?? null,
    meta: record.meta,
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
  };
}
