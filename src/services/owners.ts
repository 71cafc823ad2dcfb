/**
 * Owners (docs/consistency.md#owners): keys with the same `ownerId` in a workspace share the owner's limits and
 * credits. `PUT` writes the settings to D1 with their audit entry, then to the owner's Durable
 * Object (the counting authority), then brings them into force for the owner's keys through the
 * workspace's context shards (whether the owner's object counts their requests:
 * docs/consistency.md#context), a fixed number of calls whatever the number of keys. An owner
 * revoke revokes each live key of the owner through the key's object, once: keys given the
 * `ownerId` later are not affected.
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
import { WorkspaceStore } from "../storage/workspaces";
import { type AdminContext, auditEntry, canSee, notFound } from "./admin-context";
import { decodeCursor, encodeCursor } from "./cursor";
import type { KeyService } from "./keys";

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
  keyCount: number;
}

export interface OwnerObjects {
  of(workspaceId: string, ownerId: string): OwnerGateApi;
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

export class OwnerService {
  private readonly owners: OwnerStore;
  private readonly workspaces: WorkspaceStore;
  private readonly audit: AuditStore;
  private readonly events: EventStore;

  constructor(
    private readonly db: D1Database,
    private readonly objects: OwnerObjects,
    private readonly contexts: ContextDirectory,
    private readonly keys: KeyService,
    private readonly queue: Queue<PortcullisEvent> | undefined,
  ) {
    this.owners = new OwnerStore(db);
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

  /** The owner as its object counts it; an owner never set has no limits and no credits. */
  async get(context: AdminContext, workspaceId: string, ownerId: string): Promise<OwnerDetail> {
    await this.workspace(context, workspaceId);
    const [view, ids] = await Promise.all([
      failClosed(this.objects.of(workspaceId, ownerId).inspect()),
      this.owners.keyIds(workspaceId, ownerId),
    ]);
    return {
      ownerId,
      workspaceId,
      limits: view.windows,
      credits: view.credits ? { remaining: view.credits.remaining, refill: view.credits.refill } : null,
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
