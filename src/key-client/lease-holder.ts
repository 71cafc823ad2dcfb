/**
 * The isolate's side of leases (docs/consistency.md#leases): the leases this isolate holds, one per key, and the
 * decisions it makes under them without asking the key's object.
 *
 * - A lease holds from before the isolate sent the call that brought it (`sentAt + ms`), so
 *   it always ends before the object's count of it, whatever either clock says.
 * - One call per key asks for a lease at a time; requests arriving meanwhile wait for its
 *   answer rather than each asking the object, so that budget is never stranded in leases this
 *   isolate cannot use. They wait `WAIT_MS` at most: an ask or a report that never settles (its
 *   request cancelled, its call hung) is then replaced, and holds the key no longer.
 * - When the object grants nothing (a small or nearly spent limit), requests go to the object
 *   one by one, as without leases, and ask again after a lease length.
 * - What a lease decided is reported when the isolate asks again, or when the lease ends
 *   (usage catches up within a lease length), or before this isolate changes the key. An
 *   isolate that disappears first loses those decisions from usage, never from the counters:
 *   docs/consistency.md#leases bounds it.
 */

import { decide, type GateCheck, type KeyDecision } from "../decision/decide";
import { identityOf, type KeyIdentity } from "../keys/record";
import { type HeldBudget, spend } from "../limits/lease";
import type { KeyTypePolicy } from "../policy/compiled";
import type { KeyGateApi } from "./client";
import type { LeaseAsk, LeaseReport, LentLease } from "./contract";

interface Held {
  grant: LentLease;
  /** When it stops holding, by this isolate's clock. */
  endsAt: number;
  budget: HeldBudget;
  counts: Record<string, number>;
  lastUsedAt: number | null;
  /** Its report left (or is leaving): it is never reported twice. */
  reported: boolean;
}

/** Where a lease is reported at its end: its key's object, from work kept alive past the response. */
export interface Reporter {
  gate: KeyGateApi;
  background: (work: Promise<unknown>) => void;
}

/** What `next` tells a request to do. */
export type Step =
  | { decided: { decision: KeyDecision; record: KeyIdentity }; wait?: undefined; ask?: undefined }
  | { wait: Promise<void>; decided?: undefined; ask?: undefined }
  | { ask: LeaseAsk | null; decided?: undefined; wait?: undefined };

/** Requests seen for a key since the isolate last asked its object, to size the next budget. */
interface Rate {
  count: number;
  since: number;
}

/** The shortest span a rate is measured over, ms: the first request must not look like a flood. */
const MIN_RATE_SPAN_MS = 50;
/** How long before its end a lease stops being used here and is reported, at most, ms. */
const REPORT_MARGIN_MS = 100;
/** Keys whose lease this isolate tracks at most; the oldest is reported and dropped past it. */
const MAX_KEYS = 10_000;
/** How long requests wait for this isolate's ask or report of their key at most, ms. */
const WAIT_MS = 5_000;

/** A call under way that the key's requests wait for: an ask, or the report of a lease. */
interface Asking {
  answered: Promise<void>;
  answer: () => void;
  /** When it began, by this isolate's clock. */
  since: number;
}

export class LeaseHolder {
  private id: string | null = null;
  private readonly held = new Map<string, Held>();
  /** Calls asking for a lease (or reporting one), by key: their answer, and how to announce it. */
  private readonly asking = new Map<string, Asking>();
  private readonly notUntil = new Map<string, number>();
  private readonly rates = new Map<string, Rate>();

  /** This isolate's id, made on first use (randomness is not available at startup). */
  get holder(): string {
    this.id ??= crypto.randomUUID();
    return this.id;
  }

  /**
   * What to do with a request of this key: its decision under this isolate's lease; or wait for
   * the call asking for a lease now, then try again; or call the object, asking for a lease
   * with `ask` when no call is asking yet (settling the lease held now), or without one. Every
   * ask must be ended with `received`. Deciding, and else asking, happen in one step, so that
   * no request of this isolate goes to the object while budget it could use is on its way back.
   */
  next(keyId: string, check: GateCheck, policy: KeyTypePolicy, now: number): Step {
    const decided = this.decide(keyId, check, policy, now);
    if (decided) return { decided };
    // Another workspace's caller (an admin key's verify) neither uses nor ends this isolate's
    // lease: the object answers it alone.
    const held = this.held.get(keyId);
    if (held && check.workspaceId !== null && held.grant.state.record.workspaceId !== check.workspaceId) {
      return { ask: null };
    }
    const asking = this.asking.get(keyId);
    if (asking && now < asking.since + WAIT_MS)
      return { wait: waitAtMost(asking, asking.since + WAIT_MS - now) };
    if (asking) {
      // It never settled: it holds this key's requests no longer.
      this.asking.delete(keyId);
      asking.answer();
    }
    if (!policy.leaseMs || now < (this.notUntil.get(keyId) ?? 0)) return { ask: null };
    const { promise, resolve } = Promise.withResolvers<void>();
    this.asking.set(keyId, { answered: promise, answer: resolve, since: now });
    const rate = this.rates.get(keyId) ?? { count: 1, since: now };
    this.rates.set(keyId, { count: 0, since: now });
    const span = Math.max(now - rate.since, MIN_RATE_SPAN_MS);
    const settled = this.take(keyId);
    return {
      ask: {
        holder: this.holder,
        report: settled ? report(settled) : null,
        wanted: Math.ceil((2 * Math.max(rate.count, 1) * policy.leaseMs) / span),
      },
    };
  }

  private decide(
    keyId: string,
    check: GateCheck,
    policy: KeyTypePolicy,
    now: number,
  ): { decision: KeyDecision; record: KeyIdentity } | null {
    this.seen(keyId, now);
    const held = this.held.get(keyId);
    if (!held || now >= held.endsAt) return null;
    const { state, counters } = held.grant;
    if (check.workspaceId !== null && state.record.workspaceId !== check.workspaceId) return null;
    const { decision } = decide(state, counters, { ...check, consume: false }, policy, now);
    if (decision.code === "valid") {
      const left = spend(held.budget, check.cost);
      if (!left) return null;
      held.budget = left;
      held.lastUsedAt = now;
    }
    held.counts[decision.code] = (held.counts[decision.code] ?? 0) + 1;
    const usage = held.grant.usage ?? decision.usage;
    return { decision: withBudget({ ...decision, usage }, held), record: identityOf(state.record) };
  }

  /** The object answered an ask (or failed to): keeps the lease it granted. */
  received(
    keyId: string,
    grant: LentLease | null | undefined,
    policy: KeyTypePolicy,
    reporter: Reporter,
    sentAt: number,
  ): void {
    // Its own entry only: one begun after it was sent replaced it (it was answered too late).
    const found = this.asking.get(keyId);
    const asking = found && found.since <= sentAt ? found : undefined;
    if (asking) this.asking.delete(keyId);
    if (grant) {
      // Past the bound the oldest lease stops being used here; it is still reported at its end.
      if (this.held.size >= MAX_KEYS) this.held.delete(this.held.keys().next().value as string);
      const held = {
        grant,
        // Stop a little early and report then: the report reaches the object before its own
        // count of the lease ends, while its unused budget can still go back.
        endsAt: sentAt + grant.ms - Math.min(REPORT_MARGIN_MS, grant.ms / 10),
        budget: { ...grant.budget },
        counts: {},
        lastUsedAt: null,
        reported: false,
      };
      this.held.set(keyId, held);
      this.reportAtEnd(keyId, held, reporter, policy);
      this.notUntil.delete(keyId);
    } else {
      if (this.notUntil.size >= MAX_KEYS) this.notUntil.delete(this.notUntil.keys().next().value as string);
      this.notUntil.set(keyId, sentAt + (policy.leaseMs ?? 0));
    }
    asking?.answer();
  }

  /**
   * Stops deciding this key alone and settles the lease with its object, before this isolate
   * changes the key: the change then need not wait for the lease to run out.
   */
  async surrender(keyId: string, gate: KeyGateApi, policyOf: (type: string) => KeyTypePolicy): Promise<void> {
    const held = this.take(keyId);
    if (held) await gate.release(this.holder, report(held), policyOf(held.grant.state.record.type));
  }

  /**
   * The object's figures for this key, seen from this isolate: plus the budget its lease has
   * left (what the object counts as used may still pass here).
   */
  withHeldBudget(keyId: string, decision: KeyDecision): KeyDecision {
    const held = this.held.get(keyId);
    return held && !held.reported ? withBudget(decision, held) : decision;
  }

  /** Takes the key's lease out of use, to be reported by the caller. */
  private take(keyId: string): Held | null {
    const held = this.held.get(keyId) ?? null;
    this.held.delete(keyId);
    if (!held || held.reported) return null;
    held.reported = true;
    return held;
  }

  private seen(keyId: string, now: number): void {
    const rate = this.rates.get(keyId);
    if (rate) rate.count += 1;
    else {
      if (this.rates.size >= MAX_KEYS) this.rates.delete(this.rates.keys().next().value as string);
      this.rates.set(keyId, { count: 1, since: now });
    }
  }

  /**
   * Reports the lease when it ends, if this isolate has not asked again by then: its unused
   * budget goes back to the key, and what it decided reaches the key's usage.
   */
  private reportAtEnd(
    keyId: string,
    held: Held,
    { gate, background }: Reporter,
    policy: KeyTypePolicy,
  ): void {
    const ended = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, held.endsAt - Date.now())));
    background(
      ended.then(async () => {
        if (held.reported) return;
        held.reported = true;
        if (this.held.get(keyId) === held) this.held.delete(keyId);
        // While the report is on its way, this isolate's requests of the key wait for it as for
        // an ask: one sent to the object first would be refused for budget that is coming back.
        const { promise, resolve } = Promise.withResolvers<void>();
        const reporting = this.asking.has(keyId)
          ? null
          : { answered: promise, answer: resolve, since: Date.now() };
        if (reporting) this.asking.set(keyId, reporting);
        try {
          await gate.release(this.holder, report(held), policy).catch(() => undefined);
        } finally {
          if (reporting && this.asking.get(keyId) === reporting) this.asking.delete(keyId);
          resolve();
        }
      }),
    );
  }
}

/** The call's answer, or `ms` later, whichever comes first: then the request tries again. */
function waitAtMost(asking: Asking, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([asking.answered, late]).finally(() => clearTimeout(timer));
}

function report(held: Held): LeaseReport {
  return {
    leaseId: held.grant.id,
    unused: { requests: held.budget.requests, credits: held.budget.credits },
    counts: held.counts,
    lastUsedAt: held.lastUsedAt,
  };
}

/**
 * The decision's usage as the client sees it: the object's figures at the grant plus the
 * budget this isolate has not used yet (exact while it serves the key alone).
 */
function withBudget(decision: KeyDecision, held: Held): KeyDecision {
  const requests = held.budget.requests ?? 0;
  const credits = decision.usage.credits;
  return {
    ...decision,
    usage: {
      windows: decision.usage.windows.map((status) => {
        const remaining = status.remaining + requests;
        return { ...status, remaining, reset: remaining > 0 ? 0 : status.reset };
      }),
      credits: credits ? { ...credits, remaining: credits.remaining + (held.budget.credits ?? 0) } : null,
      retryAfter: null,
    },
  };
}

/** The leases of this isolate. */
export const leaseHolder = new LeaseHolder();
