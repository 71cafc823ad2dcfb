/**
 * Who is calling the admin API, and what they may see. Root sees every workspace; an admin key
 * sees its own workspace only, and anything else answers 404 as if it did not exist.
 */

import type { ChangeContext } from "../key-client/contract";
import { newId } from "../keys/random";
import { Refusal } from "../refusals";
import type { Actor, AuditEntry } from "../storage/audit";

export interface AdminContext {
  actor: Actor;
  /** The workspace an admin key is bound to; null for root. */
  workspaceId: string | null;
  /** Admin permissions held; root holds `*`. */
  permissions: string[];
  requestId: string;
}

export function canSee(context: AdminContext, workspaceId: string): boolean {
  return context.workspaceId === null || context.workspaceId === workspaceId;
}

export function notFound(what: string, id: string): Refusal {
  return new Refusal("not_found", `No ${what} with id "${id}".`);
}

export function changeContext(context: AdminContext): ChangeContext {
  return { actor: context.actor, requestId: context.requestId, auditId: newId("aud") };
}

/** The audit entry of a change made by this caller (docs/admin-api.md). */
export function auditEntry(
  context: AdminContext,
  change: Pick<AuditEntry, "workspaceId" | "action" | "targetId" | "before" | "after"> & { at?: number },
): AuditEntry {
  const { at = Date.now(), ...rest } = change;
  return { id: newId("aud"), at, actor: context.actor, requestId: context.requestId, ...rest };
}
