/**
 * The key's context (its workspace's plan, its roles' permissions, its owner's settings), held
 * under a lease from its workspace's context shard (docs/consistency.md#context,
 * docs/key-object.md I13-I15). The shard answers a change only once every context it lent
 * before is over; so this object decides a request only under a context whose lease covers the
 * request's arrival, and lends an isolate nothing that outlives it.
 *
 * - A context holds from before its ask was sent (`sentAt + ms`, by this object's clock): it
 *   ends before the shard's count of it, whatever either clock says.
 * - It is held for one subject (workspace, roles, owner, type): a record whose roles or owner
 *   changed while it was asked for is not decided under it (the ask's answer is dropped).
 * - Requests needing a context while one is asked for share that ask, if it was sent no earlier
 *   than their lease could cover them; else they ask anew. One promise inside this object: a
 *   request never waits on another request's I/O in the Worker.
 */
import type { LentContext, WorkspaceContextApi } from "../key-client/context-client";
import type { KeyRecord } from "../keys/record";
import type { ContextSubject, KeyContext } from "../storage/key-context";

/** A context as this object holds it. */
export interface HeldContext {
  context: KeyContext;
  /** The subject it is for (`subjectKey`). */
  subject: string;
  /** Its end by this object's clock: sent at + the lent length. */
  endsAt: number;
}

/** Asks made for one request when changes keep landing meanwhile, before it fails (503). */
export const CONTEXT_TRIES = 4;

/** What of a record its context depends on, as one comparable string. */
export function subjectKey(record: ContextSubject): string {
  return JSON.stringify([record.workspaceId, record.type, record.ownerId, record.roles]);
}

export class ContextLease {
  private held: HeldContext | null = null;
  /** The ask under way, with when it was sent and for which subject. */
  private asking: { subject: string; sentAt: number; answer: Promise<HeldContext> } | null = null;

  constructor(
    private readonly shardOf: (workspaceId: string, keyId: string) => WorkspaceContextApi,
    private readonly now: () => number,
  ) {}

  /**
   * The context to decide a request of `record` that arrived at `arrival` under, if this object
   * holds one that covers it (a lease that ends no earlier than the arrival), with at least
   * `minLeft` ms left when given; else null. Synchronous: decide with no await after it.
   */
  usable(record: KeyRecord, arrival: number, minLeft = 0): HeldContext | null {
    const held = this.held;
    if (!held || held.subject !== subjectKey(record) || held.endsAt < arrival) return null;
    if (minLeft > 0 && held.endsAt - this.now() < minLeft) return null;
    return held;
  }

  /**
   * The context last held for `record`'s subject, whatever its end (not to decide under: to give
   * a lease's budget back under the limits it was lent under); null if none.
   */
  last(record: KeyRecord): HeldContext | null {
    const held = this.held;
    return held && held.subject === subjectKey(record) ? held : null;
  }

  /**
   * Asks the shard for the context of `record` (or joins the ask under way for it, if that was
   * sent no earlier than `arrival - ms`, so that its lease covers the arrival), lent for `ms`.
   */
  async ask(record: KeyRecord, arrival: number, ms: number): Promise<void> {
    const subject = subjectKey(record);
    const asking = this.asking;
    if (asking && asking.subject === subject && asking.sentAt + ms >= arrival) {
      await asking.answer;
      return;
    }
    const sentAt = this.now();
    const answer = this.shardOf(record.workspaceId, record.id)
      .lend(
        { workspaceId: record.workspaceId, roles: record.roles, ownerId: record.ownerId, type: record.type },
        ms,
      )
      .then((lent: LentContext) => {
        const held = { context: lent.context, subject, endsAt: sentAt + lent.ms };
        // A later ask's answer (a longer lease, or a newer subject) is not replaced by an older one.
        if (!this.held || this.held.subject !== subject || this.held.endsAt <= held.endsAt) this.held = held;
        return held;
      });
    const mine = { subject, sentAt, answer };
    this.asking = mine;
    try {
      await answer;
    } finally {
      if (this.asking === mine) this.asking = null;
    }
  }

  /** Forgets the held context: the next decision asks the shard (a test's restart). */
  forget(): void {
    this.held = null;
  }
}
