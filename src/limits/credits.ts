/**
 * Credits (docs/consistency.md), pure: a balance consumed by each allowed request's `cost`, optionally
 * set back to `amount` at the start of each UTC day or month.
 */
import type { CreditRefill, Credits } from "../keys/record";
import { calendarPeriod } from "./windows";

export interface CreditState extends Credits {
  /** Start of the refill interval the balance belongs to, epoch ms; null without refill. */
  period: number | null;
  /**
   * Counts balances set by an admin (absent = 0): budget leased from an earlier balance is not
   * given back to a balance set after it.
   */
  generation?: number;
}

export function creditState(credits: Credits, now: number): CreditState {
  return { ...credits, period: credits.refill ? calendarPeriod(credits.refill.interval, now).start : null };
}

/** The balance as of `now`: refilled if a new interval has begun since `period`. */
export function currentCredits(state: CreditState, now: number): CreditState {
  if (!state.refill) return state;
  const { start } = calendarPeriod(state.refill.interval, now);
  if (state.period !== null && state.period >= start) return state;
  return { ...state, remaining: state.refill.amount, period: start };
}

/** Seconds until the next refill, or null without one. */
export function secondsToRefill(refill: CreditRefill | null, now: number): number | null {
  if (!refill) return null;
  return Math.max(1, Math.ceil((calendarPeriod(refill.interval, now).end - now) / 1000));
}

export type CreditOp = "set" | "increment" | "decrement";

/** A balance after an admin operation; it never goes below zero nor past exact integers. */
export function applyCreditOp(remaining: number, op: CreditOp, amount: number): number {
  if (op === "set") return amount;
  if (op === "increment") return Math.min(remaining + amount, Number.MAX_SAFE_INTEGER);
  return Math.max(0, remaining - amount);
}
