/**
 * Keys as the portal shows them (docs/portal.md#records): never `meta`, `plan`, `ipAllowlist`,
 * the `limits` setting or anything secret.
 */
import type { KeyRecord } from "../keys/record";

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function portalKeyView(record: KeyRecord) {
  return {
    id: record.id,
    type: record.type,
    name: record.name,
    start: record.start,
    ownerId: record.ownerId,
    permissions: record.permissions,
    enabled: record.enabled,
    expiresAt: isoOrNull(record.expiresAt),
    revokedAt: isoOrNull(record.revokedAt),
    createdAt: new Date(record.createdAt).toISOString(),
    lastUsedAt: isoOrNull(record.lastUsedAt),
    createdBy: record.createdBy ?? null,
    rotatedFrom: record.rotatedFrom,
  };
}
