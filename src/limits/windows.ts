/**
 * Rate limits and quotas of one key (docs/consistency.md), pure. `second`, `minute` and `hour` are GCRA
 * with a burst equal to the limit: N requests may pass at once, then one per window/N, with
 * one timestamp of state per window and the limit it counts in. `day` and `month` are calendar
 * windows in UTC, with a period start and a count. Everything is a function of the state and
 * the clock passed in.
 */
import { type Limits, WINDOWS, type Window } from "../policy/schema";

export type { Window };

/** The state of one window: GCRA's theoretical arrival time, or a calendar period's count. */
export interface WindowState {
  /** GCRA: when the bucket would be empty again, epoch ms, each request counted draining in window/`limit`. */
  tat?: number;
  /**
   * GCRA: the limit `tat` counts in. Under another limit the requests counted stay counted
   * (`restated`); absent in states stored before it was kept: read as the current limit.
   */
  limit?: number;
  /** Calendar: start of the period `count` belongs to, epoch ms. */
  period?: number;
  count?: number;
}

export type WindowStates = Partial<Record<Window, WindowState>>;

/** How a window stands for a key, as the headers and the verify and self answers show it. */
export interface WindowStatus {
  window: Window;
  limit: number;
  remaining: number;
  /** Seconds until one more request is allowed (0 while `remaining` > 0). */
  reset: number;
  /** Seconds until the window is entirely fresh again. */
  resetFull: number;
  /** The window's length in seconds (`w` of `RateLimit-Policy`; a month's is this month's). */
  seconds: number;
  /** A window of the key's owner (docs/consistency.md#owners), shared by all its keys: named `owner-<window>`. */
  owner?: true;
}

/** The name a client sees: `minute` for the key's own window, `owner-minute` for its owner's. */
export function windowName(status: Pick<WindowStatus, "window" | "owner">): string {
  return status.owner ? `owner-${status.window}` : status.window;
}

/** The length of each GCRA window, ms. */
export const GCRA_MS: Record<"second" | "minute" | "hour", number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
};
/** Float tolerance of GCRA arithmetic, in requests. */
const EPSILON = 1e-6;
/**
 * Float tolerance of a theoretical arrival time, ms: an epoch near 2^41 ms is exact only to
 * about 2.4e-4 ms, more than EPSILON of a short interval (1e-6 of 1 ms at 1000 a second).
 */
const SLACK_MS = 1e-3;

export function isCalendar(window: Window): window is "day" | "month" {
  return window === "day" || window === "month";
}

/** Start and end of the UTC day or month containing `now`, epoch ms. */
export function calendarPeriod(window: "day" | "month", now: number): { start: number; end: number } {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (window === "day") {
    const start = Date.UTC(year, month, date.getUTCDate());
    return { start, end: start + 86_400_000 };
  }
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000 - EPSILON));
}

/** The limit of each window: the key's own value when positive, else the plan's, else none. */
export function effectiveLimits(own: Limits, plan: Limits | undefined): [Window, number][] {
  const result: [Window, number][] = [];
  for (const window of WINDOWS) {
    const mine = own[window] ?? 0;
    const planned = plan?.[window];
    if (mine > 0) result.push([window, mine]);
    else if (planned !== undefined) result.push([window, planned]);
  }
  return result;
}

export interface WindowOutcome {
  allowed: boolean;
  /** The state after this request if it is allowed; the state unchanged otherwise. */
  next: WindowState;
  /** The window as it stands after the request (or now, for a denial or a peek). */
  status: WindowStatus;
}

type Gcra = "second" | "minute" | "hour";

/** How long one request counted in `state` takes to drain, ms: window/limit of the limit it counts in. */
function drainMs(window: Gcra, limit: number, state: WindowState | undefined): number {
  const counted = state?.limit !== undefined && state.limit > 0 ? state.limit : limit;
  return GCRA_MS[window] / counted;
}

/**
 * The theoretical arrival time of `state` at `now`, restated under `limit`: the requests counted
 * (not yet drained) stay counted, whatever limit counted them, so a lowered limit is in force at
 * once for what was used, and a raised one frees only what it adds (docs/consistency.md).
 */
function restated(window: Gcra, limit: number, state: WindowState | undefined, now: number): number {
  const tat = Math.max(state?.tat ?? now, now);
  const drain = drainMs(window, limit, state);
  const interval = GCRA_MS[window] / limit;
  if (drain === interval) return tat;
  // The requests counted, snapped to a whole number when within the stored time's float error:
  // restating multiplies that error by interval/drain (32x from 229 to 7 a second), enough to
  // refuse a request the lowered limit leaves room for.
  const counted = (tat - now) / drain;
  const nearest = Math.round(counted);
  const requests = Math.abs(counted - nearest) * drain <= slackOf(drain) ? nearest : counted;
  return now + requests * interval;
}

/**
 * A GCRA window's state with `requests` more counted at `now` (fewer, when negative: budget
 * given back), in the unit of `limit`. What a lease takes and gives back.
 */
export function countGcra(
  window: Gcra,
  limit: number,
  state: WindowState | undefined,
  now: number,
  requests: number,
): WindowState {
  const interval = GCRA_MS[window] / limit;
  return { tat: whole(restated(window, limit, state, now) + requests * interval, now, interval), limit };
}

/**
 * `tat` moved onto a whole number of intervals from `now` when within float error of one, so
 * that a burst's additions do not accumulate rounding (34 a second must pass 34 at once).
 */
function whole(tat: number, now: number, interval: number): number {
  const counted = Math.round((tat - now) / interval);
  return Math.abs(tat - now - counted * interval) <= slackOf(interval) ? now + counted * interval : tat;
}

function slackOf(interval: number): number {
  return Math.max(SLACK_MS, EPSILON * interval);
}

function gcra(
  window: Gcra,
  limit: number,
  state: WindowState | undefined,
  now: number,
  take: boolean,
): WindowOutcome {
  const duration = GCRA_MS[window];
  const base = { window, limit, seconds: duration / 1000 };
  if (limit === 0) {
    return {
      allowed: false,
      next: state ?? {},
      status: { ...base, remaining: 0, reset: seconds(duration), resetFull: seconds(duration) },
    };
  }
  const interval = duration / limit;
  const tolerance = duration - interval;
  const tat = restated(window, limit, state, now);
  const slack = slackOf(interval);
  const room = (tat0: number) => Math.max(0, Math.floor((tolerance - (tat0 - now) + slack) / interval + 1));
  const waitFor = (tat0: number) => seconds(tat0 - tolerance - now);
  const allowed = tat - now <= tolerance + slack;
  if (!take || !allowed) {
    const remaining = room(tat);
    // Until a request is counted under this limit, what was counted drains at its own pace.
    const drain = drainMs(window, limit, state);
    const pending = Math.max(state?.tat ?? now, now) - now;
    return {
      allowed: take ? false : remaining > 0,
      next: state ?? {},
      status: {
        ...base,
        remaining,
        reset: remaining > 0 ? 0 : Math.max(1, seconds(pending - (limit - 1) * drain)),
        resetFull: seconds(pending),
      },
    };
  }
  const next = whole(tat + interval, now, interval);
  const remaining = room(next);
  return {
    allowed: true,
    next: { tat: next, limit },
    status: {
      ...base,
      remaining,
      reset: remaining > 0 ? 0 : Math.max(1, waitFor(next)),
      resetFull: seconds(next - now),
    },
  };
}

function calendar(
  window: "day" | "month",
  limit: number,
  state: WindowState | undefined,
  now: number,
  take: boolean,
): WindowOutcome {
  const { start, end } = calendarPeriod(window, now);
  const used = state?.period === start ? (state.count ?? 0) : 0;
  const allowed = used < limit;
  const count = take && allowed ? used + 1 : used;
  const remaining = Math.max(0, limit - count);
  return {
    allowed: take ? allowed : remaining > 0,
    next: take && allowed ? { period: start, count } : (state ?? {}),
    status: {
      window,
      limit,
      remaining,
      reset: remaining > 0 ? 0 : Math.max(1, seconds(end - now)),
      resetFull: Math.max(1, seconds(end - now)),
      seconds: (end - start) / 1000,
    },
  };
}

/** One window's answer to a request: `take` counts it, else the window is only read. */
export function evaluateWindow(
  window: Window,
  limit: number,
  state: WindowState | undefined,
  now: number,
  take: boolean,
): WindowOutcome {
  return isCalendar(window)
    ? calendar(window, limit, state, now, take)
    : gcra(window, limit, state, now, take);
}

/**
 * The later of two states of each window: the one that has counted more (for GCRA, the one
 * that drains later, with the limit it counts in). A key's object keeps a copy of the windows
 * its owner's object counts; answers may come back out of order, and the later state is the
 * one that must win.
 */
export function laterWindows(a: WindowStates, b: WindowStates): WindowStates {
  const merged: WindowStates = { ...a };
  for (const [window, state] of Object.entries(b) as [Window, WindowState][]) {
    const mine = merged[window];
    if (!mine) merged[window] = state;
    else if (isCalendar(window)) {
      const period = Math.max(mine.period ?? 0, state.period ?? 0);
      const count = (s: WindowState) => (s.period === period ? (s.count ?? 0) : 0);
      merged[window] = { period, count: Math.max(count(mine), count(state)) };
    } else if ((state.tat ?? 0) > (mine.tat ?? 0)) merged[window] = state;
  }
  return merged;
}

/**
 * The window a client should watch: least remaining, then soonest one more (what `RateLimit`
 * shows); on a tie there, the key's own window before its owner's (docs/consistency.md#owners); then soonest fresh.
 */
export function tightest(statuses: readonly WindowStatus[]): WindowStatus | null {
  let best: WindowStatus | null = null;
  const rank = (status: WindowStatus) => [
    status.remaining,
    status.reset,
    status.owner ? 1 : 0,
    status.resetFull,
  ];
  for (const status of statuses) {
    if (!best || before(rank(status), rank(best))) best = status;
  }
  return best;
}

/** Whether `a` sorts strictly before `b`, field by field. */
function before(a: number[], b: number[]): boolean {
  for (let index = 0; index < a.length; index += 1) {
    const x = a[index] ?? 0;
    const y = b[index] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}
