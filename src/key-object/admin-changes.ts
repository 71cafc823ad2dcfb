/**
 * The admin changes a key's object applies, each through `OrderedWrites` (so in the order of
 * docs/admin-api.md), each computed from the state as it is when its turn comes. The object checks the
 * caller's scope itself: another workspace's key is `not_found`, and an admin key changes an
 * admin key only if it holds every permission that key holds.
 */

import type { Counters, GateState } from "../decision/decide";
import type { KeyGateApi } from "../key-client/client";
import type {
  AdminScope,
  ChangeContext,
  CreateCap,
  CreditChange,
  KeyPatch,
  RotationSuccessor,
  WriteOutcome,
} from "../key-client/contract";
import { onlyRestricts } from "../keys/change";
import { changedFields, type EventType, keyEvent, type PortcullisEvent } from "../keys/events";
import { holds } from "../keys/permissions";
import { newId } from "../keys/random";
import { type Credits, creatorOf, type KeyRecord } from "../keys/record";
import { applyCreditOp, creditState, currentCredits } from "../limits/credits";
import { ADMIN_KEY_TYPE } from "../policy/schema";
import type { AuditAction } from "../storage/audit";
import { AuditStore } from "../storage/audit";
import { EventStore } from "../storage/events";
import { KeyStore } from "../storage/keys";
import type { KeyCell, StoredState } from "./cell";
import { auditEntry, type Committed, type OrderedWrites } from "./ordered-writes";
import { NO_ACTIVITY } from "./usage";

/** What a change makes of the key, or why it makes nothing. */
type Planned =
  | {
      record: KeyRecord;
      extra?: Partial<StoredState>;
      /** Write D1 first even if the change only restricts: its failure must change nothing. */
      d1First?: boolean;
      deleted?: boolean;
      confirmWithoutD1: boolean;
    }
  | "unchanged"
  | "conflict";

const ROOT: AdminScope = { workspaceId: null, permissions: null };

export class KeyChanges {
  constructor(
    private readonly cell: KeyCell,
    private readonly writes: OrderedWrites,
    private readonly db: () => D1Database,
    private readonly now: () => number,
  ) {}

  /** Stores a new key: D1 first (a new key widens), then here. */
  create(
    initial: Pick<GateState, "record">,
    hash: string,
    action: "key.create" | "key.import" | "key.rotate",
    context: ChangeContext,
    inherited: Counters | null,
    cap: CreateCap | null = null,
  ): Promise<WriteOutcome> {
    return this.writes.run(async () => {
      if (this.cell.state) return { ok: false, code: "conflict" };
      const db = this.db();
      const keys = new KeyStore(db);
      if (await keys.hashExists(hash)) return { ok: false, code: "conflict" };
      const entry = auditEntry(initial.record, action, null, initial.record, context);
      // A rotation announces the new key as `key.rotated` (with `rotatedFrom`), not as created.
      const event =
        action === "key.rotate"
          ? keyEvent(newId("evt"), "key.rotated", initial.record, initial.record.updatedAt, {
              rotatedFrom: initial.record.rotatedFrom,
            })
          : keyEvent(newId("evt"), "key.created", initial.record, initial.record.updatedAt);
      const { id } = initial.record;
      const [inserted] = await db.batch(
        cap
          ? [
              keys.insertCapped(initial.record, hash, cap, this.now()),
              new AuditStore(db).insertIfKey(entry, id),
              new EventStore(db).insertIfKey(event, id),
            ]
          : [
              keys.insert(initial.record, hash),
              new AuditStore(db).insert(entry),
              new EventStore(db).insert(event),
            ],
      );
      if (inserted?.meta.changes === 0) return { ok: false, code: "limit_reached" };
      await this.writes.publish([event]);
      const credits = initial.record.credits ? creditState(initial.record.credits, this.now()) : null;
      await this.cell.setMeters(
        { counters: inherited ?? { windows: {}, credits }, activity: NO_ACTIVITY },
        true,
      );
      await this.cell.persist({ record: initial.record, deleted: false });
      return { ok: true, record: initial.record, d1Pending: false };
    });
  }

  /** Changes the key's settings (a change of roles or owner: its context is asked anew). */
  update(scope: AdminScope, patch: KeyPatch, context: ChangeContext): Promise<WriteOutcome> {
    return this.change(scope, context, "key.update", (state, now) => {
      const { record } = state;
      if (context.ifUnchangedSince !== undefined && record.updatedAt !== context.ifUnchangedSince)
        return "conflict";
      // A rotated key ends with its grace period: its expiry may come earlier, never later.
      if (state.successor && patch.expiresAt !== undefined) {
        const limit = record.expiresAt ?? Number.POSITIVE_INFINITY;
        if (patch.expiresAt === null || patch.expiresAt > limit) return "conflict";
      }
      return {
        record: { ...record, ...patch, updatedAt: now },
        confirmWithoutD1: patch.enabled === false,
      };
    });
  }

  /** Revokes for good; revoking a revoked key changes nothing and returns it as it is. */
  revoke(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.change(
      scope,
      context,
      "key.revoke",
      (state, now) =>
        state.record.revokedAt !== null
          ? "unchanged"
          : { record: { ...state.record, revokedAt: now, updatedAt: now }, confirmWithoutD1: true },
      { allowRevoked: true },
    );
  }

  /**
   * Revokes this key because `successor`, the key it was rotated into, was revoked or deleted:
   * only while its grace period lasts (docs/admin-api.md, Rotation), since its requests are
   * then refused with the successor's. Unchanged otherwise: its grace is over (it reads
   * expired), it is revoked already, or `successor` is not its successor.
   */
  endGrace(successor: string, context: ChangeContext): Promise<WriteOutcome> {
    return this.change(
      ROOT,
      context,
      "key.revoke",
      (state, now) =>
        state.successor !== successor ||
        state.record.revokedAt !== null ||
        (state.record.expiresAt !== null && state.record.expiresAt <= now)
          ? "unchanged"
          : { record: { ...state.record, revokedAt: now, updatedAt: now }, confirmWithoutD1: true },
      { allowRevoked: true },
    );
  }

  /** Revokes and forgets the key; its hash stays reserved in D1. */
  remove(scope: AdminScope, context: ChangeContext): Promise<WriteOutcome> {
    return this.change(
      scope,
      context,
      "key.delete",
      (state, now) => ({
        record: { ...state.record, revokedAt: state.record.revokedAt ?? now, updatedAt: now },
        deleted: true,
        confirmWithoutD1: true,
      }),
      { allowRevoked: true },
    );
  }

  /**
   * Rotates the key (docs/admin-api.md): creates its successor with this key's settings and counters, then
   * ends this key's life at `now + graceMs` and sends its counting to the successor meanwhile.
   * Decisions of this key wait while it runs, so the counters handed over are final; a second
   * rotation finds the successor and is a conflict. If this key cannot be retired, the
   * successor is taken back.
   */
  rotate(
    scope: AdminScope,
    successor: RotationSuccessor,
    graceMs: number,
    context: ChangeContext,
    objectOf: (id: string) => KeyGateApi,
  ): Promise<WriteOutcome> {
    return this.writes.run(async () => {
      const state = this.cell.visible(scope);
      if (!state) return { ok: false, code: this.cell.state ? "not_found" : "absent" };
      const refused = refusal(state, scope, {});
      if (refused) return refused;
      if (state.successor) return { ok: false, code: "conflict" };
      // A portal rotation checked the key first: a change since (a provider's disable) wins.
      if (context.ifUnchangedSince !== undefined && state.record.updatedAt !== context.ifUnchangedSince)
        return { ok: false, code: "conflict" };
      const resume = this.cell.pause();
      try {
        const now = this.now();
        const kept = this.cell.view(state.record);
        const { expiresBy } = successor;
        const record: KeyRecord = {
          ...kept,
          expiresAt:
            expiresBy === undefined ? kept.expiresAt : Math.min(kept.expiresAt ?? expiresBy, expiresBy),
          id: successor.id,
          start: successor.start,
          createdAt: now,
          updatedAt: now,
          lastUsedAt: null,
          rotatedFrom: state.record.id,
          // The successor is made by whoever rotates, not by the original's creator.
          createdBy: creatorOf(context.actor),
        };
        const next = objectOf(successor.id);
        const counters = this.cell.meters.counters;
        // The successor's creation is audited under its own entry.
        const created = await next.create(
          { record },
          successor.hash,
          "key.rotate",
          { ...context, auditId: newId("aud") },
          counters,
        );
        if (!created.ok) return created;
        const expiresAt = Math.min(state.record.expiresAt ?? now + graceMs, now + graceMs);
        const retired = await this.apply(state, "key.rotate", context, {
          record: { ...state.record, expiresAt, updatedAt: now },
          extra: { successor: successor.id },
          // If this key cannot be retired, it must go on working: D1 first, nothing here on failure.
          d1First: true,
          confirmWithoutD1: false,
        });
        if (!retired.ok) {
          await next.remove(ROOT, context).catch(() => undefined);
          return retired;
        }
        return created;
      } finally {
        resume();
      }
    });
  }

  /**
   * Sets, raises or lowers the credit balance at once. A lower balance is a restriction (here
   * first), a higher one a widening (D1 first). The operation is applied to the balance as it
   * stands when it is stored here, so that requests counted meanwhile are not lost.
   */
  changeCredits(scope: AdminScope, change: CreditChange, context: ChangeContext): Promise<WriteOutcome> {
    return this.writes.run(async () => {
      const state = this.cell.visible(scope);
      if (!state) return { ok: false, code: this.cell.state ? "not_found" : "absent" };
      const refused = refusal(state, scope, {});
      if (refused) return refused;
      const balance = (now: number) => {
        const stored = this.cell.meters.counters.credits;
        const current = stored ? currentCredits(stored, now) : null;
        const refill = change.refill === undefined ? (current?.refill ?? null) : change.refill;
        const next = creditState(
          { remaining: applyCreditOp(current?.remaining ?? 0, change.op, change.amount), refill },
          now,
        );
        const generation = (current?.generation ?? 0) + (change.op === "set" ? 1 : 0);
        return generation > 0 ? { ...next, generation } : next;
      };
      const withCredits = (record: KeyRecord, credits: Credits, now: number): KeyRecord => ({
        ...record,
        credits: { remaining: credits.remaining, refill: credits.refill },
        updatedAt: now,
      });
      const now = this.now();
      const before = this.cell.view(state.record);
      const planned = withCredits(state.record, balance(now), now);
      return this.outcome(
        await this.writes.commit({
          restricts:
            change.op === "decrement" ||
            (change.op === "set" && change.amount <= (before.credits?.remaining ?? 0)),
          pending: {
            record: planned,
            audit: auditEntry(planned, "key.credits", before, planned, context),
            deleted: false,
            events: [keyEvent(newId("evt"), "key.updated", planned, now, { changed: ["credits"] })],
          },
          store: async () => {
            const at = this.now();
            const credits = balance(at);
            await this.cell.setMeters(
              { ...this.cell.meters, counters: { ...this.cell.meters.counters, credits } },
              true,
            );
            const current = this.cell.state as StoredState;
            const after = withCredits(current.record, credits, at);
            await this.cell.persist({ ...current, record: after });
            return after;
          },
          confirmWithoutD1: false,
        }),
      );
    });
  }

  /**
   * One admin change of the key's record. `next` sees the state as it is once the change's turn
   * has come (writes are serialised) and returns the new record, or why there is none.
   */
  private change(
    scope: AdminScope,
    context: ChangeContext,
    action: AuditAction,
    next: (state: StoredState, now: number) => Planned,
    options: { allowRevoked?: boolean } = {},
  ): Promise<WriteOutcome> {
    return this.writes.run(async () => {
      const state = this.cell.visible(scope);
      if (!state) return { ok: false, code: this.cell.state ? "not_found" : "absent" };
      return refusal(state, scope, options) ?? this.apply(state, action, context, next(state, this.now()));
    });
  }

  /** Commits a planned change; to be called among the ordered writes, on the current state. */
  private async apply(
    state: StoredState,
    action: AuditAction,
    context: ChangeContext,
    planned: Planned,
  ): Promise<WriteOutcome> {
    if (planned === "unchanged") {
      return { ok: true, record: this.cell.view(state.record), d1Pending: false, unchanged: true };
    }
    if (planned === "conflict") return { ok: false, code: "conflict" };
    const deleted = planned.deleted ?? false;
    const before = this.cell.view(state.record);
    const after = planned.record;
    return this.outcome(
      await this.writes.commit({
        restricts: !planned.d1First && (deleted || onlyRestricts(state.record, after)),
        pending: {
          record: after,
          audit: auditEntry(after, action, before, deleted ? null : this.cell.view(after), context),
          deleted,
          events: context.silent ? [] : eventsOf(action, state.record, after),
        },
        store: async () => {
          // Only ordered writes change the record, so `after` still follows from the current state.
          const current = this.cell.state as StoredState;
          await this.cell.persist({ ...current, ...planned.extra, record: after, deleted });
          return after;
        },
        confirmWithoutD1: planned.confirmWithoutD1,
      }),
    );
  }

  private outcome(committed: Committed): WriteOutcome {
    return committed.ok ? { ...committed, record: this.cell.view(committed.record) } : committed;
  }
}

/** The event types of admin actions on a key's record; the retired key of a rotation raises none. */
const EVENT_OF_ACTION: Partial<Record<AuditAction, EventType>> = {
  "key.update": "key.updated",
  "key.revoke": "key.revoked",
  "key.delete": "key.deleted",
};

/** The events a change of the record raises, written with it. */
function eventsOf(action: AuditAction, before: KeyRecord, after: KeyRecord): PortcullisEvent[] {
  const type = EVENT_OF_ACTION[action];
  if (!type) return [];
  const extra: Record<string, unknown> =
    type === "key.updated"
      ? { changed: changedFields(before, after) }
      : { revokedAt: new Date(after.revokedAt ?? after.updatedAt).toISOString() };
  return [keyEvent(newId("evt"), type, after, after.updatedAt, extra)];
}

/** Why the caller may not change this key, if it may not. */
function refusal(
  state: StoredState,
  scope: AdminScope,
  options: { allowRevoked?: boolean },
): WriteOutcome | null {
  const { record } = state;
  const held = scope.permissions;
  if (record.type === ADMIN_KEY_TYPE && held !== null && !record.permissions.every((p) => holds(held, p))) {
    return { ok: false, code: "forbidden" };
  }
  if (record.revokedAt !== null && !options.allowRevoked) return { ok: false, code: "key_revoked" };
  return null;
}
