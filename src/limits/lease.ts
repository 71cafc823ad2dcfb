/**
 * Lease accounting (docs/consistency.md#leases), pure. A key's object may hand an isolate a budget of
 * requests and credits to admit on its own for a short time. The budget is counted as used in
 * every window and the balance when it is granted, and what the isolate did not use is given
 * back when it reports; so however many isolates hold leases, the counters never admit more
 * than their limits. Budget unreported when a lease ends stays counted: an isolate that
 * vanishes can only make the key under-admit.
 */
import { type CreditState, currentCredits } from "./credits";
import {
  calendarPeriod,
  countGcra,
  evaluateWindow,
  GCRA_MS,
  isCalendar,
  laterWindows,
  type Window,
  type WindowStates,
} from "./windows";

/** What a lease lets an isolate admit without asking the key's object. */
export interface Budget {
  /** Requests it may admit; null when the key has no counted window. */
  requests: number | null;
  /** Credits it may spend; null when the key has no credits. */
  credits: number | null;
}

/** A window or balance must have at least this much room left for any of it to be leased. */
export const LEASE_MIN_ROOM = 16;
/** A lease shorter than this is not worth its bookkeeping, ms. */
export const LEASE_MIN_MS = 50;
/** The most requests one lease may carry, however fast the isolate. */
export const LEASE_MAX_REQUESTS = 10_000;

export interface LeaseBudgetInput {
  limits: [Window, number][];
  windows: WindowStates;
  credits: CreditState | null;
  now: number;
  /** `leases.ms` of the policy. */
  maxMs: number;
  /** The key's `expiresAt`, epoch ms. */
  expiresAt: number | null;
  /** Requests the isolate expects to see during a lease (its recent rate). */
  wantedRequests: number;
  /** Credits one request costs, as the isolate last saw it. */
  cost: number;
  /** Leases other isolates hold on this key now. */
  otherHolders: number;
  /** `creditsLowThreshold`: no budget is leased across it (its event comes from the object). */
  creditsLowThreshold: number | null;
}

export interface LeaseBudget {
  budget: Budget;
  /** How long the lease holds, ms, counted by the isolate from before it asked. */
  ms: number;
  /** The counters after the budget was taken: the object keeps these. */
  windows: WindowStates;
  credits: CreditState | null;
}

/** Requests a window can still admit at `now`, by its own rules. */
function room(window: Window, limit: number, windows: WindowStates, now: number): number {
  return evaluateWindow(window, limit, windows[window], now, false).status.remaining;
}

/** At most a fair share of what remains: half of it, split among the holders. */
function share(available: number, otherHolders: number): number {
  return Math.floor(available / (2 * (otherHolders + 1)));
}

/**
 * The lease the object may grant now, or null when it should count each request itself: a
 * small or nearly spent window or balance, a lease too short to matter, or leasing off.
 */
export function leaseBudget(input: LeaseBudgetInput): LeaseBudget | null {
  const { limits, now } = input;
  let ms = input.maxMs;
  if (input.expiresAt !== null) ms = Math.min(ms, input.expiresAt - now);

  let requests: number | null = null;
  if (limits.length > 0) {
    requests = Math.min(LEASE_MAX_REQUESTS, Math.max(1, input.wantedRequests));
    for (const [window, limit] of limits) {
      // A calendar window's last unit is never leased: its refusal raises `quota.exceeded`.
      const available = room(window, limit, input.windows, now) - (isCalendar(window) ? 1 : 0);
      if (available < LEASE_MIN_ROOM) return null;
      requests = Math.min(requests, share(available, input.otherHolders));
      // A rolling window counts a lease's requests at the grant, up to the lease's length before
      // they arrive: a tenth of the window bounds that head start (100 ms for `second`).
      ms = Math.min(ms, isCalendar(window) ? calendarPeriod(window, now).end - now : GCRA_MS[window] / 10);
    }
  }

  let credits: number | null = null;
  const balance = input.credits ? currentCredits(input.credits, now) : null;
  if (balance) {
    // Leave the balance above the low threshold (if it is above it now) and above zero, so that
    // `credits.low` and `credits.exhausted` are raised by the object, which counts the crossing.
    const threshold = input.creditsLowThreshold;
    const floor = threshold !== null && balance.remaining > threshold ? threshold + 1 : 1;
    const available = balance.remaining - floor;
    if (available < LEASE_MIN_ROOM) return null;
    const wanted = Math.max(1, input.wantedRequests) * Math.max(1, input.cost);
    credits = Math.min(wanted, share(available, input.otherHolders));
    if (credits < input.cost) return null;
    if (balance.refill) ms = Math.min(ms, calendarPeriod(balance.refill.interval, now).end - now);
  }

  if (requests !== null && requests < 1) return null;
  if (ms < LEASE_MIN_MS) return null;
  const budget = { requests, credits };
  return { budget, ms, ...take(limits, input.windows, balance, budget, now) };
}

/** One set of windows a lease draws from: a key's own, or its owner's (docs/consistency.md#owners). */
export interface WindowSet {
  limits: [Window, number][];
  windows: WindowStates;
}

export interface LeaseBudgetAcross {
  budget: Budget;
  ms: number;
  /** Each set's windows after the budget was taken, in the order given. */
  windows: WindowStates[];
  credits: CreditState | null;
}

/**
 * A lease over several sets of windows at once and one balance (a key counted with its
 * owner's windows): each set judged on its own terms by `leaseBudget`, then the smallest
 * budget and length of all, taken from every set. Null when any set may not be leased.
 */
export function leaseBudgetAcross(
  input: Omit<LeaseBudgetInput, "limits" | "windows"> & { sets: WindowSet[] },
): LeaseBudgetAcross | null {
  const sets = input.sets.length > 0 ? input.sets : [{ limits: [], windows: {} }];
  const grants = sets.map((set, index) =>
    leaseBudget({
      ...input,
      limits: set.limits,
      windows: set.windows,
      credits: index === 0 ? input.credits : null,
    }),
  );
  let requests: number | null = null;
  let ms = input.maxMs;
  for (const grant of grants) {
    if (!grant) return null;
    if (grant.budget.requests !== null) requests = Math.min(requests ?? Infinity, grant.budget.requests);
    ms = Math.min(ms, grant.ms);
  }
  const budget = { requests, credits: grants[0]?.budget.credits ?? null };
  const balance = input.credits ? currentCredits(input.credits, input.now) : null;
  const taken = sets.map((set, index) =>
    take(set.limits, set.windows, index === 0 ? balance : null, budget, input.now),
  );
  return { budget, ms, windows: taken.map((set) => set.windows), credits: taken[0]?.credits ?? null };
}

/** Counts `budget` as used: `requests` in every window, `credits` off the balance. */
function take(
  limits: [Window, number][],
  windows: WindowStates,
  credits: CreditState | null,
  budget: Budget,
  now: number,
): { windows: WindowStates; credits: CreditState | null } {
  const next: WindowStates = { ...windows };
  const requests = budget.requests ?? 0;
  for (const [window, limit] of limits) {
    if (isCalendar(window)) {
      const { start } = calendarPeriod(window, now);
      const used = windows[window]?.period === start ? (windows[window]?.count ?? 0) : 0;
      next[window] = { period: start, count: used + requests };
    } else next[window] = countGcra(window, limit, windows[window], now, requests);
  }
  return {
    windows: next,
    credits:
      credits && budget.credits !== null
        ? { ...credits, remaining: credits.remaining - budget.credits }
        : credits,
  };
}

/** Where the lease drew its budget from, to give unused budget back to the same periods. */
export interface LeasePeriods {
  /** The limits the budget was taken under. */
  limits: [Window, number][];
  /** Start of each calendar window's period at the grant. */
  calendar: Partial<Record<"day" | "month", number>>;
  /** The balance's refill period and generation at the grant; null for a key without credits. */
  credits: { period: number | null; generation: number } | null;
}

export function leasePeriods(
  limits: [Window, number][],
  credits: CreditState | null,
  now: number,
): LeasePeriods {
  const calendar: LeasePeriods["calendar"] = {};
  for (const [window] of limits) {
    if (isCalendar(window)) calendar[window] = calendarPeriod(window, now).start;
  }
  const balance = credits ? currentCredits(credits, now) : null;
  return {
    limits,
    calendar,
    credits: balance ? { period: balance.period, generation: balance.generation ?? 0 } : null,
  };
}

/**
 * Gives back budget a lease did not use. A calendar period or refill that ended since the
 * grant keeps its count (the new period owes nothing); a GCRA window moves back by the unused
 * requests, which it forgives on its own once they are in the past. A window whose limit
 * changed since the grant, and a balance an admin set since, keep the budget as spent.
 */
export function giveBack(
  limits: [Window, number][],
  windows: WindowStates,
  credits: CreditState | null,
  periods: LeasePeriods,
  unused: Budget,
  now: number,
): { windows: WindowStates; credits: CreditState | null } {
  const next: WindowStates = { ...windows };
  const requests = unused.requests ?? 0;
  if (requests > 0) {
    for (const [window, limit] of limits) {
      const state = windows[window];
      if (!periods.limits.some(([w, l]) => w === window && l === limit)) continue;
      if (isCalendar(window)) {
        if (state?.period !== undefined && state.period === periods.calendar[window]) {
          next[window] = { period: state.period, count: Math.max(0, (state.count ?? 0) - requests) };
        }
      } else if (state?.tat !== undefined) {
        next[window] = countGcra(window, limit, state, now, -requests);
      }
    }
  }
  let balance = credits;
  if (credits && unused.credits !== null && unused.credits > 0) {
    const current = currentCredits(credits, now);
    const drawn = periods.credits;
    if (drawn && current.period === drawn.period && (current.generation ?? 0) === drawn.generation) {
      balance = {
        ...current,
        remaining: Math.min(Number.MAX_SAFE_INTEGER, current.remaining + unused.credits),
      };
    }
  }
  return { windows: next, credits: balance };
}

/**
 * The windows of a key counted by its owner's object (docs/consistency.md#owners), as that object
 * keeps them. `version` goes up with every change it stores, including a lease's give-back.
 */
export interface CountedKey {
  windows: WindowStates;
  version: number;
}

/**
 * The key's copy of its windows, as its object sends it with a request: `version` is the owner's
 * version they were copied from, or null when they are not exactly an answer of this owner (the
 * key came from its own counting or another owner, or was counted elsewhere since).
 */
export interface KeyCopy {
  windows: WindowStates;
  version: number | null;
}

/**
 * Where the owner's object counts a key's request from. While it counts the key, it is the
 * authority on the key's windows: a copy it answered itself is at most as new as what it holds
 * (a lease's give-back is newer than the copy that still counts the whole budget), so the copy
 * is ignored. A copy it did not answer (the key just came to it) may be ahead: the later state
 * of each window holds.
 */
export function ownerCountsFrom(copy: KeyCopy, counted: CountedKey | undefined): WindowStates {
  if (!counted) return copy.windows;
  if (copy.version !== null && copy.version <= counted.version) return counted.windows;
  return laterWindows(copy.windows, counted.windows);
}

/** The key object's record of the owner's last answer it took. */
export interface OwnerCopy {
  /** `<workspace id>/<owner id>`. */
  owner: string;
  version: number;
  windows: WindowStates;
}

/** The version to send with the key's windows (see `KeyCopy`). */
export function copyVersion(copy: OwnerCopy | null, owner: string, windows: WindowStates): number | null {
  return copy && copy.owner === owner && sameWindows(copy.windows, windows) ? copy.version : null;
}

/**
 * The key's windows after an answer of its owner's object (`version` null: that object stored
 * nothing, so the answer changes nothing). Answers that cross are ordered by version, not by the
 * highest count, so a give-back is kept; windows counted elsewhere since the last answer (the key
 * was not counted by this owner) are merged, the later state of each window holding, until the
 * owner has counted from them.
 */
export function takeAnswer(
  copy: OwnerCopy | null,
  owner: string,
  windows: WindowStates,
  answer: { windows: WindowStates; version: number | null },
): { windows: WindowStates; copy: OwnerCopy | null } {
  if (answer.version === null) return { windows, copy };
  const taken = { owner, version: answer.version, windows: answer.windows };
  const current = copyVersion(copy, owner, windows);
  if (current === null) return { windows: laterWindows(windows, answer.windows), copy: taken };
  if (answer.version <= current) return { windows, copy };
  return { windows: answer.windows, copy: taken };
}

function sameWindows(a: WindowStates, b: WindowStates): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<Window>;
  for (const name of names) {
    const x: Record<string, unknown> = { ...a[name] };
    const y: Record<string, unknown> = { ...b[name] };
    const fields = new Set([...Object.keys(x), ...Object.keys(y)]);
    for (const field of fields) if (x[field] !== y[field]) return false;
  }
  return true;
}

/** The isolate's side: what is left of a lease's budget after admitting requests. */
export interface HeldBudget {
  requests: number | null;
  credits: number | null;
}

/** Takes one request of `cost` from a held budget, or null when the budget cannot cover it. */
export function spend(budget: HeldBudget, cost: number): HeldBudget | null {
  if (budget.requests !== null && budget.requests < 1) return null;
  if (budget.credits !== null && budget.credits < cost) return null;
  return {
    requests: budget.requests === null ? null : budget.requests - 1,
    credits: budget.credits === null ? null : budget.credits - cost,
  };
}
