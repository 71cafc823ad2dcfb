/**
 * Records as the admin API shows them: ISO 8601 times, never a secret or a hash.
 */

import type { KeyRecord } from "../keys/record";
import type { EventItem } from "../services/events";
import type { Inspection } from "../services/keys";
import type { OwnerDetail } from "../services/owners";
import type { ListedRole } from "../services/roles";
import type { AuditEntry } from "../storage/audit";
import type { Owner } from "../storage/owners";
import type { Workspace } from "../storage/workspaces";

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

export function keyView(record: KeyRecord) {
  return {
    id: record.id,
    workspaceId: record.workspaceId,
    type: record.type,
    name: record.name,
    start: record.start,
    ownerId: record.ownerId,
    permissions: record.permissions,
    roles: record.roles,
    meta: record.meta,
    plan: record.plan,
    limits: record.limits,
    credits: record.credits,
    ipAllowlist: record.ipAllowlist,
    enabled: record.enabled,
    expiresAt: isoOrNull(record.expiresAt),
    revokedAt: isoOrNull(record.revokedAt),
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    lastUsedAt: isoOrNull(record.lastUsedAt),
    rotatedFrom: record.rotatedFrom,
    // An object's state from before `createdBy` was recorded has none.
    createdBy: record.createdBy ?? null,
  };
}

export function workspaceView(workspace: Workspace) {
  return {
    id: workspace.id,
    name: workspace.name,
    plan: workspace.plan,
    externalId: workspace.externalId,
    createdAt: iso(workspace.createdAt),
    updatedAt: iso(workspace.updatedAt),
  };
}

export function roleView(role: ListedRole) {
  return {
    workspaceId: role.workspaceId,
    name: role.name,
    permissions: role.permissions,
    source: role.source,
    createdAt: isoOrNull(role.createdAt),
    updatedAt: isoOrNull(role.updatedAt),
  };
}

export function keyDetailView(inspection: Inspection) {
  return {
    ...keyView(inspection.record),
    counters: {
      plan: inspection.plan,
      limits: inspection.usage.windows.map(({ window, limit, remaining, reset }) => ({
        window,
        limit,
        remaining,
        reset,
      })),
    },
  };
}

export function ownerView(owner: OwnerDetail) {
  return {
    ...owner,
    limits: owner.limits.map(({ window, limit, remaining, reset }) => ({ window, limit, remaining, reset })),
    rolesAsOf: owner.rolesAsOf === null ? null : new Date(owner.rolesAsOf).toISOString(),
  };
}

export function ownerSummaryView({ owner, keyCount }: { owner: Owner; keyCount: number }) {
  return { ownerId: owner.ownerId, limits: owner.limits, credits: owner.credits, keyCount };
}

export function auditView(entry: AuditEntry) {
  return { ...entry, at: iso(entry.at) };
}

export function eventView(item: EventItem) {
  return { id: item.id, type: item.type, at: iso(item.at), data: item.data, deliveries: item.deliveries };
}
