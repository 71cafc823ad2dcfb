/**
 * Rows 11-13 of docs/decisions.md for one request, pure: second/minute/hour limits, then day/month
 * quotas, then credits. A request is counted in every window and charged its cost only when
 * all three pass; a denied request consumes nothing. With `take` false (the self endpoint) the
 * counters are only read and nothing is ever refused.
 *
 * `meterSets` does the same over several sets of windows at once (a key's own and its owner's,
 * docs/consistency.md#owners): the request passes only if every window of every set passes, and is then counted in
 * all of them, or in none.
 */
import { type CreditState, currentCredits, secondsToRefill } from "./credits";
import {
  evaluateWindow,
  isCalendar,
  type Window,
  type WindowOutcome,
  type WindowStates,
  type WindowStatus,
} from "./windows";

export type MeterCode = "valid" | "rate_limited" | "quota_exceeded" | "credits_exhausted";

export interface MeterInput {
  limits: [Window, number][];
  windows: WindowStates;
  credits: CreditState | null;
  cost: number;
  now: number;
  take: boolean;
}

export interface Meter {
  code: MeterCode;
  /** Every window that applies, as it stands after the request. */
  windows: WindowStatus[];
  /** The balance after the request; null for a key without credits. */
  credits: CreditState | null;
  /** Seconds a refused client should wait; null when it should not retry on time alone. */
  retryAfter: number | null;
  /** The state to keep: changed only when the request was counted. */
  nextWindows: WindowStates;
}

/** One set of windows: its limits and state; `owner` marks the owner's (docs/consistency.md#owners). */
export interface WindowSet {
  limits: [Window, number][];
  windows: WindowStates;
  owner?: boolean;
}

export interface SetsInput {
  sets: WindowSet[];
  credits: CreditState | null;
  cost: number;
  now: number;
  take: boolean;
}

export interface SetsMeter extends Omit<Meter, "nextWindows"> {
  /** The state to keep of each set, in the order of `sets`. */
  nextWindows: WindowStates[];
}

function evaluate(set: WindowSet, now: number, take: boolean): WindowOutcome[] {
  return set.limits.map(([window, limit]) => {
    const outcome = evaluateWindow(window, limit, set.windows[window], now, take);
    return set.owner ? { ...outcome, status: { ...outcome.status, owner: true } } : outcome;
  });
}

export function meterSets(input: SetsInput): SetsMeter {
  const credits = input.credits ? currentCredits(input.credits, input.now) : null;
  const refuse = (code: MeterCode, retryAfter: number | null): SetsMeter => ({
    code,
    windows: input.sets.flatMap((set) => evaluate(set, input.now, false).map((outcome) => outcome.status)),
    credits,
    retryAfter,
    nextWindows: input.sets.map((set) => set.windows),
  });
  if (!input.take) return refuse("valid", null);

  const outcomes = input.sets.map((set) => evaluate(set, input.now, true));
  const all = outcomes.flat();
  const limited = all.find((outcome) => !outcome.allowed && !isCalendar(outcome.status.window));
  if (limited) return refuse("rate_limited", limited.status.reset);
  const spent = all.find((outcome) => !outcome.allowed);
  if (spent) return refuse("quota_exceeded", spent.status.reset);
  if (credits && input.cost > credits.remaining) {
    return refuse("credits_exhausted", secondsToRefill(credits.refill, input.now));
  }

  return {
    code: "valid",
    windows: all.map((outcome) => outcome.status),
    credits: credits ? { ...credits, remaining: credits.remaining - input.cost } : null,
    retryAfter: null,
    nextWindows: input.sets.map((set, index) => {
      const next: WindowStates = { ...set.windows };
      for (const outcome of outcomes[index] ?? []) next[outcome.status.window] = outcome.next;
      return next;
    }),
  };
}

export function meter(input: MeterInput): Meter {
  const { limits, windows, ...rest } = input;
  const metered = meterSets({ ...rest, sets: [{ limits, windows }] });
  return { ...metered, nextWindows: metered.nextWindows[0] ?? windows };
}
