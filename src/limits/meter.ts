/**
 * Rows 11-13 of docs/decisions.md for one request, pure: second/minute/hour limits, then day/month
 * quotas, then credits. A request is counted in every window and charged its cost only when
 * all three pass; a denied request consumes nothing. With `take` false (the self endpoint) the
 * counters are only read and nothing is ever refused.
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

function read(input: MeterInput): WindowOutcome[] {
  return input.limits.map(([window, limit]) =>
    evaluateWindow(window, limit, input.windows[window], input.now, false),
  );
}

export function meter(input: MeterInput): Meter {
  const credits = input.credits ? currentCredits(input.credits, input.now) : null;
  const refuse = (code: MeterCode, retryAfter: number | null): Meter => ({
    code,
    windows: read(input).map((outcome) => outcome.status),
    credits,
    retryAfter,
    nextWindows: input.windows,
  });
  if (!input.take) return refuse("valid", null);

  const outcomes = input.limits.map(([window, limit]) =>
    evaluateWindow(window, limit, input.windows[window], input.now, true),
  );
  const limited = outcomes.find((outcome) => !outcome.allowed && !isCalendar(outcome.status.window));
  if (limited) return refuse("rate_limited", limited.status.reset);
  const spent = outcomes.find((outcome) => !outcome.allowed);
  if (spent) return refuse("quota_exceeded", spent.status.reset);
  if (credits && input.cost > credits.remaining) {
    return refuse("credits_exhausted", secondsToRefill(credits.refill, input.now));
  }

  const nextWindows: WindowStates = { ...input.windows };
  for (const outcome of outcomes) nextWindows[outcome.status.window] = outcome.next;
  return {
    code: "valid",
    windows: outcomes.map((outcome) => outcome.status),
    credits: credits ? { ...credits, remaining: credits.remaining - input.cost } : null,
    retryAfter: null,
    nextWindows,
  };
}
