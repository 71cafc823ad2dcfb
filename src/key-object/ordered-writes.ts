/**
 * The write order of docs/consistency.md, written once for every admin change of a key. Changes run one
 * after another. A restriction is put in force in the object first, then written to D1; when
 * D1 fails it is queued (`repair:<sequence>`) and retried by the alarm, in order, and the key
 * stays restricted meanwhile. Anything else goes to D1 first, after the queued writes so that
 * D1 never goes back to an older record, and is stored in the object only once D1 has it; a
 * failure changes nothing. A change's events are written in its D1 batch, beside its audit
 * entry, and queued once D1 has them.
 */

import type { ChangeContext } from "../key-client/contract";
import type { PortcullisEvent } from "../keys/events";
import type { KeyRecord } from "../keys/record";
import { logEvent } from "../log";
import { type AuditAction, type AuditEntry, AuditStore } from "../storage/audit";
import { EventStore } from "../storage/events";
import { KeyStore } from "../storage/keys";
import { Turns } from "./turns";

/** Prefix of the queued D1 writes; the earlier revision kept one, under `repair` itself. */
export const REPAIR_PREFIX = "repair";
/** Delay before retrying a failed D1 write, ms. */
const REPAIR_RETRY_MS = 5_000;

/** What D1 receives for one change: the record after it, its audit entry and its events. */
export interface PendingWrite {
  record: KeyRecord;
  audit: AuditEntry;
  deleted: boolean;
  /** Absent in writes queued by an earlier revision. */
  events?: PortcullisEvent[];
}

export interface ChangePlan {
  /** The change only restricts the key: in force here first, then written to D1. */
  restricts: boolean;
  pending: PendingWrite;
  /** Stores the change in the object, from its state as it is when called. */
  store: () => Promise<KeyRecord>;
  /** Revoke, disable, delete: answered 2xx once in force here, D1 following when it can. */
  confirmWithoutD1: boolean;
}

export type Committed =
  | { ok: true; record: KeyRecord; d1Pending: boolean }
  | { ok: false; code: "unavailable" };

export class OrderedWrites {
  private readonly turns = new Turns();
  private sequence = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: () => D1Database,
    private readonly now: () => number,
    /** Queues events once D1 has them. */
    readonly publish: (events: PortcullisEvent[]) => Promise<void> = async () => undefined,
  ) {}

  async load(): Promise<void> {
    const last = await this.storage.list({ prefix: `${REPAIR_PREFIX}:`, reverse: true, limit: 1 });
    const [name] = last.keys();
    this.sequence = name ? Number(name.slice(REPAIR_PREFIX.length + 1)) : 0;
  }

  /** Runs `write` after every write before it has finished. */
  run<T>(write: () => Promise<T>): Promise<T> {
    return this.turns.run(write);
  }

  /** Applies one change in the order above; to be called from within `run`. */
  async commit(plan: ChangePlan): Promise<Committed> {
    if (plan.restricts) {
      const record = await plan.store();
      if (await this.writeD1(plan.pending)) return { ok: true, record, d1Pending: false };
      await this.queueRepair(plan.pending);
      return plan.confirmWithoutD1
        ? { ok: true, record, d1Pending: true }
        : { ok: false, code: "unavailable" };
    }
    if (!(await this.drain()) || !(await this.writeD1(plan.pending)))
      return { ok: false, code: "unavailable" };
    return { ok: true, record: await plan.store(), d1Pending: false };
  }

  async queueRepair(pending: PendingWrite): Promise<void> {
    this.sequence += 1;
    await this.storage.put(`${REPAIR_PREFIX}:${String(this.sequence).padStart(12, "0")}`, pending);
    await this.storage.setAlarm(this.now() + REPAIR_RETRY_MS);
  }

  /** The queued writes, oldest first (for a hand-off to another object). */
  async queued(): Promise<PendingWrite[]> {
    return [...(await this.storage.list<PendingWrite>({ prefix: REPAIR_PREFIX })).values()];
  }

  /**
   * Writes the queued D1 writes, oldest first, removing each once written (a write queued
   * meanwhile stays queued). False when one still failed; to be called from within `run`.
   */
  async drain(): Promise<boolean> {
    const queued = await this.storage.list<PendingWrite>({ prefix: REPAIR_PREFIX });
    for (const [name, pending] of queued) {
      if (!(await this.writeD1(pending))) return false;
      await this.storage.delete(name);
    }
    return true;
  }

  /** Retries the queued writes from the alarm; schedules another try when D1 still fails. */
  async retry(): Promise<boolean> {
    const drained = await this.run(() => this.drain());
    if (!drained) await this.storage.setAlarm(this.now() + REPAIR_RETRY_MS);
    return drained;
  }

  /** Writes a change, its audit entry and its events to D1, then queues the events; false when D1 failed. */
  private async writeD1(pending: PendingWrite): Promise<boolean> {
    const db = this.db();
    const keys = new KeyStore(db);
    const change = pending.deleted
      ? keys.tombstone(pending.record.id, pending.record.updatedAt)
      : keys.update(pending.record);
    const events = pending.events ?? [];
    const eventStore = new EventStore(db);
    try {
      await db.batch([
        change,
        new AuditStore(db).insert(pending.audit),
        ...events.map((event) => eventStore.insert(event)),
      ]);
    } catch (error) {
      // The request id is the admin change's, kept with the write it is retried with.
      logEvent("error", "d1_write_failed", {
        keyId: pending.record.id,
        requestId: pending.audit.requestId,
        error: String(error),
      });
      return false;
    }
    await this.publish(events);
    return true;
  }
}

/** The audit entry of a change (docs/admin-api.md), keeping the change's time and request id. */
export function auditEntry(
  record: KeyRecord,
  action: AuditAction,
  before: KeyRecord | null,
  after: KeyRecord | null,
  context: ChangeContext,
): AuditEntry {
  return {
    id: context.auditId,
    at: record.updatedAt,
    workspaceId: record.workspaceId,
    actor: context.actor,
    action,
    targetId: record.id,
    requestId: context.requestId,
    before,
    after,
  };
}
