/**
 * Owners (docs/consistency.md#owners): keys with the same `ownerId` in a workspace share the owner's limits and
 * credits. `PUT` writes the settings to D1 with their audit entry, then to the owner's Durable
 * Object (the counting authority), then brings them into force for the owner's keys through the
 * workspace's context shards (whether the owner's object counts their requests:
 * docs/consistency.md#context), a fixed number of calls whatever the number of keys. An owner
 * revoke revokes each live key of the owner through the key's object, once: keys given the
 * `ownerId` later are not affected. The owner's roles (which ownerScoped keys' permissions are
 * kept within) are set apart from its settings, and reach its keys the same way.
 */
import { failClosed } from "../fail-closed";
import { type ContextDirectory, invalidateContexts } from "../key-client/context-client";
import type { OwnerGateApi } from "../key-client/owner-client";
import { publish } from "../key-object/events";
import type { PortcullisEvent } from "../keys/events";
import { newId } from "../keys/random";
import type { Credits } from "../keys/record";
import type { WindowStatus } from "../limits/windows";
import type { Limits } from "../policy/schema";
import { Refusal, unavailable } from "../refusals";
import { AuditStore } from "../storage/audit";
import { EventStore } from "../storage/events";
import { commit } from "../storage/guard";
import { type Owner, OwnerStore } from "../storage/owners";
import {
  policyRoles as deployedPolicyRoles,
  type PolicyRoles,
  RoleStore,
  resolveRoles,
} from "../storage/roles";
import { WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, auditEntry, canSee, notFound } from "./admin-context";
import { decodeCursor, encodeCursor } from "./cursor";
import type { KeyService } from "./keys";
import { badRequest } from "./policy-checks";

/** Keys revoked at once by an owner revoke. */
const REVOKE_CONCURRENCY = 16;

/** `PUT /owners/:ownerId`: replaces the settings; an absent field is none. */
export interface OwnerInput {
  limits?: Limits;
  credits?: Credits | null;
}

/** `GET /owners/:ownerId`: the owner's windows with live remaining, its balance, its live keys. */
export interface OwnerDetail {
  ownerId: string;
  workspaceId: string;
  limits: WindowStatus[];
  credits: Credits | null;
  /** The owner's roles; `[]` when none or never set. */
  roles: string[];
  /** Epoch ms the roles are as of; null: never set. */
  rolesAsOf: number | null;
  keyCount: number;
}

/**
 * How far ahead of its own time a change of roles by root or an admin key dates them: the skew
 * a portal token's `iat` is allowed, so that no token issued before the change can undo it.
 */
export const ROLES_SKEW_MS = 30_000;

export interface OwnerObjects {
  of(workspaceId: string, ownerId: string): OwnerGateApi;
}

/** Whether two lists name the same roles, in any order. */
function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

function isOwnerCursor(value: unknown): value is { ownerId: string } {
  return (
    typeof value === "object" && value !== null && typeof (value as { ownerId: unknown }).ownerId === "string"
  );
}

/** What the audit log keeps of an owner's settings. */
function settingsOf(owner: Owner | null): { limits: Limits; credits: Credits | null } | null {
  return owner ? { limits: owner.limits, credits: owner.credits } : null;
}

export class OwnersService {
  private readonly owners: OwnerStore;
  private readonly roles: RoleStore;
  private readonly workspaces: WorkspaceStore;
  private readonly audit: AuditStore;
  private readonly events: EventStore;

  constructor(
    private readonly db: D1Database,
    private readonly objects: OwnerObjects,
    private readonly contexts: ContextDirectory,
    private readonly keys: KeyService,
    private readonly queue: Queue<PortcullisEvent> | undefined,
    /** `policy.roles`; by default the deployment's. */
    private readonly policyRoles: PolicyRoles = deployedPolicyRoles(),
  ) {
    this.owners = new OwnerStore(db);
    this.roles = new RoleStore(db);
    this.workspaces = new WorkspaceStore(db);
    this.audit = new AuditStore(db);
    this.events = new EventStore(db);
  }

  async put(
    context: AdminContext,
    workspaceId: string,
    ownerId: string,
    input: OwnerInput,
  ): Promise<OwnerDetail> {
    await this.workspace(context, workspaceId);
    const before = await this.owners.find(workspaceId, ownerId);
    const now = Date.now();
    const owner: Owner = {
      workspaceId,
      ownerId,
      limits: input.limits ?? {},
      credits: input.credits ?? null,
      roles: before?.roles ?? [],
      rolesAsOf: before?.rolesAsOf ?? null,
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
    };
    await commit(this.db, [
      this.owners.upsert(owner),
      this.audit.insert(
        auditEntry(context, {
          at: now,
          workspaceId,
          action: "owner.update",
          targetId: ownerId,
          before: settingsOf(before),
          after: settingsOf(owner),
        }),
      ),
    ]);
    await failClosed(
      this.objects.of(workspaceId, ownerId).configure({
        workspaceId,
        ownerId,
        limits: owner.limits,
        credits: owner.credits,
        updatedAt: now,
      }),
    );
    await invalidateContexts(this.contexts, workspaceId, { kind: "owner", ownerId });
    return this.get(context, workspaceId, ownerId);
  }

  /**
   * Sets the owner's roles, and nothing else (docs/consistency.md#owners); whether they changed.
   * `context.workspaceId` names the owner's workspace (a root caller's is narrowed to it).
   *
   * Without `asOf` (root or an admin key): every name must be a role of the workspace or of the
   * policy (else 400), and the roles are dated `ROLES_SKEW_MS` ahead. With `asOf` (a portal
   * token's `iat`, ms): applies only if the roles are older than it (or were never set), keeps
   * only the names that are roles, and dates them `asOf`. Either way, once it answers, every
   * request of the owner's keys is decided under the new roles, leases included.
   */
  async setRoles(
    context: AdminContext,
    ownerId: string,
    roles: readonly string[],
    options: { asOf?: number } = {},
  ): Promise<boolean> {
    const workspaceId = context.workspaceId;
    if (workspaceId === null) throw badRequest("workspaceId", "required with the root token");
    await this.workspace(context, workspaceId);
    const { asOf } = options;
    const names = [...new Set(roles)];
    const known = resolveRoles(names, await this.roles.find(workspaceId, names), this.policyRoles);
    const missing = names.filter((name) => !Object.hasOwn(known, name));
    if (missing.length > 0 && asOf === undefined) {
      throw badRequest("roles", `unknown role(s) in this workspace and the policy: ${missing.join(", ")}`);
    }
    const kept = names.filter((name) => Object.hasOwn(known, name));
    const before = await this.owners.find(workspaceId, ownerId);
    if (asOf !== undefined && before?.rolesAsOf != null && asOf <= before.rolesAsOf) return false;
    const now = Date.now();
    const dated = {
      workspaceId,
      ownerId,
      roles: kept,
      rolesAsOf: asOf ?? now + ROLES_SKEW_MS,
      updatedAt: now,
    };
    const same = before !== null && sameNames(before.roles, kept);
    if (same && asOf !== undefined) {
      // Only the date moves: a newer token that says what the roles already are.
      await commit(this.db, [this.owners.setRoles(dated, true)]);
      return false;
    }
    const [written] = await commit(this.db, [
      this.owners.setRoles(dated, asOf !== undefined),
      this.audit.insertAfterChange(
        auditEntry(context, {
          at: now,
          workspaceId,
          action: "owner.update",
          targetId: ownerId,
          before: before ? { roles: before.roles } : null,
          after: { roles: kept },
        }),
      ),
    ]);
    // A newer change came first (D1 checked the date): it stands.
    if (!written?.meta.changes) return false;
    await invalidateContexts(this.contexts, workspaceId, { kind: "owner", ownerId });
    return !same;
  }

  /** The owner as its object counts it, with its roles; an owner never set has no limits, credits or roles. */
  async get(context: AdminContext, workspaceId: string, ownerId: string): Promise<OwnerDetail> {
    await this.workspace(context, workspaceId);
    const [view, ids, stored] = await Promise.all([
      failClosed(this.objects.of(workspaceId, ownerId).inspect()),
      this.owners.keyIds(workspaceId, ownerId),
      this.owners.find(workspaceId, ownerId),
    ]);
    return {
      ownerId,
      workspaceId,
      limits: view.windows,
      credits: view.credits ? { remaining: view.credits.remaining, refill: view.credits.refill } : null,
      roles: stored?.roles ?? [],
      rolesAsOf: stored?.rolesAsOf ?? null,
      keyCount: ids.length,
    };
  }

  async list(
    context: AdminContext,
    workspaceId: string,
    page: { cursor?: string; limit: number },
  ): Promise<{ items: { owner: Owner; keyCount: number }[]; cursor: string | null }> {
    await this.workspace(context, workspaceId);
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor, isOwnerCursor).ownerId;
    const items = await this.owners.list(workspaceId, after, page.limit);
    const last = items.at(-1);
    return {
      items,
      cursor: items.length === page.limit && last ? encodeCursor({ ownerId: last.owner.ownerId }) : null,
    };
  }

  /**
   * Revokes every live key of the owner, each in force in its object (and past every lease of
   * it) before this returns; the number it newly revoked. A key that could not be revoked
   * answers 503 after the others are: a retry revokes the rest.
   */
  async revoke(context: AdminContext, workspaceId: string, ownerId: string): Promise<number> {
    await this.workspace(context, workspaceId);
    const ids = await this.owners.keyIds(workspaceId, ownerId);
    let revoked = 0;
    let refusal: unknown = null;
    for (let start = 0; start < ids.length; start += REVOKE_CONCURRENCY) {
      const batch = ids.slice(start, start + REVOKE_CONCURRENCY);
      // Each key's revoke raises no `key.revoked`: the owner's revoke is one `owner.revoked` event.
      const results = await Promise.allSettled(
        batch.map((id) => this.keys.revokeOnce(context, id, { silent: true })),
      );
      for (const result of results) {
        if (result.status === "fulfilled") revoked += result.value;
        // A key deleted since it was listed is no longer the owner's.
        else if (!(result.reason instanceof Refusal && result.reason.code === "not_found")) {
          refusal ??= result.reason;
        }
      }
    }
    if (refusal instanceof Refusal && refusal.code !== "unavailable") throw refusal;
    if (refusal)
      throw unavailable("Some of the owner's keys could not be revoked yet; retry to revoke them.");
    const entry = auditEntry(context, {
      workspaceId,
      action: "owner.revoke",
      targetId: ownerId,
      before: null,
      after: { revoked },
    });
    const event: PortcullisEvent = {
      id: newId("evt"),
      type: "owner.revoked",
      at: entry.at,
      workspaceId,
      data: { ownerId, workspaceId, revoked },
    };
    await commit(this.db, [this.audit.insert(entry), this.events.insert(event)]);
    await publish(this.queue, [event]);
    return revoked;
  }

  private async workspace(context: AdminContext, id: string): Promise<void> {
    if (!canSee(context, id) || !(await this.workspaces.find(id))) throw notFound("workspace", id);
  }
}
