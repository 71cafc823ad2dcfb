import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { meter } from "../../src/limits/meter";
import {
  calendarPeriod,
  effectiveLimits,
  evaluateWindow,
  GCRA_MS,
  tightest,
  type Window,
  type WindowStates,
} from "../../src/limits/windows";

const T0 = Date.UTC(2027, 0, 15, 12, 0, 0);

/** Sends `count` requests at `now` through one window, returning how many passed and the state. */
function burst(window: Window, limit: number, count: number, now: number, start: WindowStates = {}) {
  let states = start;
  let passed = 0;
  for (let i = 0; i < count; i++) {
    const result = meter({
      limits: [[window, limit]],
      windows: states,
      credits: null,
      cost: 1,
      now,
      take: true,
    });
    if (result.code === "valid") passed += 1;
    states = result.nextWindows;
  }
  return { passed, states };
}

describe("GCRA windows (second, minute, hour)", () => {
  it("lets a burst of the limit through at once, then one per window/limit", () => {
    const { passed, states } = burst("minute", 10, 15, T0);
    expect(passed).toBe(10);
    // One request's worth of the window (6 s) later, exactly one more passes.
    expect(burst("minute", 10, 3, T0 + 5_999, states).passed).toBe(0);
    expect(burst("minute", 10, 3, T0 + 6_000, states).passed).toBe(1);
    expect(burst("minute", 10, 20, T0 + 60_000, states).passed).toBe(10);
  });

  it("reports remaining, and seconds until one more request once none remain", () => {
    const first = evaluateWindow("minute", 10, undefined, T0, true);
    expect(first.status).toMatchObject({ window: "minute", limit: 10, remaining: 9, reset: 0, seconds: 60 });
    const { states } = burst("minute", 10, 10, T0);
    const denied = evaluateWindow("minute", 10, states.minute, T0 + 1_500, true);
    expect(denied.allowed).toBe(false);
    expect(denied.status).toMatchObject({ remaining: 0, reset: 5 });
    expect(denied.next).toEqual(states.minute);
  });

  it("handles second and hour windows and limits that do not divide the window", () => {
    expect(burst("second", 1, 3, T0).passed).toBe(1);
    const { states } = burst("second", 1, 1, T0);
    expect(burst("second", 1, 1, T0 + 999, states).passed).toBe(0);
    expect(burst("second", 1, 1, T0 + 1_000, states).passed).toBe(1);
    expect(burst("hour", 7, 10, T0).passed).toBe(7);
    const seven = burst("minute", 7, 7, T0);
    expect(burst("minute", 7, 1, T0 + Math.ceil(60_000 / 7) - 1, seven.states).passed).toBe(0);
    expect(burst("minute", 7, 1, T0 + Math.ceil(60_000 / 7), seven.states).passed).toBe(1);
  });

  it("refuses everything with a limit of 0", () => {
    expect(burst("minute", 0, 5, T0).passed).toBe(0);
  });
});

describe("calendar windows (day, month, UTC)", () => {
  it("counts a UTC day and starts afresh at midnight exactly", () => {
    const evening = Date.UTC(2027, 0, 15, 23, 59, 59, 999);
    const { passed, states } = burst("day", 3, 5, evening - 1_000);
    expect(passed).toBe(3);
    const late = evaluateWindow("day", 3, states.day, evening, true);
    expect(late.allowed).toBe(false);
    expect(late.status.reset).toBe(1);
    expect(burst("day", 3, 5, evening + 1, states).passed).toBe(3);
  });

  it("counts a UTC month, with w the length of this month", () => {
    const lastMoment = Date.UTC(2027, 1, 28, 23, 59, 59, 999);
    const { passed, states } = burst("month", 2, 4, Date.UTC(2027, 1, 3));
    expect(passed).toBe(2);
    expect(burst("month", 2, 1, lastMoment, states).passed).toBe(0);
    expect(burst("month", 2, 4, lastMoment + 1, states).passed).toBe(2);
    expect(evaluateWindow("month", 2, undefined, Date.UTC(2027, 1, 3), false).status.seconds).toBe(
      28 * 86_400,
    );
    expect(evaluateWindow("month", 2, undefined, Date.UTC(2028, 1, 3), false).status.seconds).toBe(
      29 * 86_400,
    );
    expect(calendarPeriod("month", Date.UTC(2027, 11, 31, 23))).toEqual({
      start: Date.UTC(2027, 11, 1),
      end: Date.UTC(2028, 0, 1),
    });
  });
});

describe("several windows at once", () => {
  const limits: [Window, number][] = [
    ["second", 1],
    ["minute", 10],
    ["day", 12],
  ];

  it("passes a request only when every window has room, and a refusal consumes nothing", () => {
    let windows: WindowStates = {};
    const codes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const now = T0 + i * 1_000;
      const result = meter({ limits, windows, credits: null, cost: 1, now, take: true });
      codes.push(result.code);
      windows = result.nextWindows;
    }
    // One a second: the minute's burst of 10 plus what GCRA drips meanwhile (one per 6 s since
    // t = 0, so at t = 10 and t = 12), until the day's 12 are spent.
    expect(codes.slice(0, 11)).toEqual(Array(11).fill("valid"));
    expect(codes.slice(11, 13)).toEqual(["rate_limited", "valid"]);
    expect(codes.filter((code) => code === "valid")).toHaveLength(12);
    expect(codes.slice(13, 18)).toEqual(Array(5).fill("rate_limited"));
    expect(codes[29]).toBe("quota_exceeded");
    // A second request in the same second is refused by the second window and counts nowhere.
    const again = meter({ limits, windows, credits: null, cost: 1, now: T0 + 29_000, take: true });
    expect(again.nextWindows).toBe(windows);
  });

  it("answers quota_exceeded once the day is spent, before credits", () => {
    let windows: WindowStates = {};
    for (let i = 0; i < 12; i++)
      windows = meter({
        limits,
        windows,
        credits: null,
        cost: 1,
        now: T0 + i * 7_000,
        take: true,
      }).nextWindows;
    const spent = meter({
      limits,
      windows,
      credits: { remaining: 0, refill: null, period: null },
      cost: 1,
      now: T0 + 200_000,
      take: true,
    });
    expect(spent.code).toBe("quota_exceeded");
    expect(spent.retryAfter).toBe(12 * 3_600 - 200);
  });

  it("names the tightest window: least remaining, then soonest", () => {
    const result = meter({ limits, windows: {}, credits: null, cost: 1, now: T0, take: true });
    expect(tightest(result.windows)).toMatchObject({ window: "second", remaining: 0, reset: 1 });
    const roomy = meter({
      limits: [
        ["minute", 10],
        ["hour", 10],
      ],
      windows: {},
      credits: null,
      cost: 1,
      now: T0,
      take: true,
    });
    expect(tightest(roomy.windows)?.window).toBe("minute");
  });

  it("only reads the counters when not taking, and never refuses", () => {
    const { states } = burst("minute", 2, 2, T0);
    const read = meter({
      limits: [["minute", 2]],
      windows: states,
      credits: null,
      cost: 1,
      now: T0,
      take: false,
    });
    expect(read.code).toBe("valid");
    expect(read.windows[0]).toMatchObject({ remaining: 0 });
    expect(read.nextWindows).toBe(states);
  });
});

describe("effective limits", () => {
  it("takes the key's own value when positive, else the plan's, else none", () => {
    expect(effectiveLimits({ minute: 5, day: 0 }, { minute: 100, day: 1000, month: 5 })).toEqual([
      ["minute", 5],
      ["day", 1000],
      ["month", 5],
    ]);
    expect(effectiveLimits({ hour: 3 }, undefined)).toEqual([["hour", 3]]);
    expect(effectiveLimits({}, undefined)).toEqual([]);
  });
});

describe("a changed GCRA limit (the requests counted stay counted)", () => {
  const HOUR = 3_600_000;

  it("lets nothing more pass when an hour limit is lowered below what was used, as a day quota does", () => {
    const used = burst("hour", 1000, 500, T0);
    expect(used.passed).toBe(500);
    expect(burst("hour", 100, 50, T0 + 1_000, used.states).passed).toBe(0);
    const day = burst("day", 1000, 500, T0);
    expect(burst("day", 100, 50, T0 + 1_000, day.states).passed).toBe(0);
  });

  it("waits until the requests counted have drained below the new limit, at most one window", () => {
    const { states } = burst("hour", 1000, 500, T0);
    // 500 counted drain at 1000 an hour: 99 are left 24 min 3.6 s after T0, then one passes.
    const drained = T0 + ((500 - 99) * HOUR) / 1000;
    expect(burst("hour", 100, 1, drained - 1_000, states).passed).toBe(0);
    const denied = evaluateWindow("hour", 100, states.hour, drained - 1_000, true);
    expect(denied.status).toMatchObject({ remaining: 0, reset: 1 });
    expect(burst("hour", 100, 1, drained, states).passed).toBe(1);
    // A whole window after the burst, the new limit is entirely free.
    expect(burst("hour", 100, 150, T0 + HOUR, states).passed).toBe(100);
  });

  it("counts what was used against a raised limit", () => {
    const { states } = burst("minute", 10, 6, T0);
    expect(burst("minute", 20, 30, T0, states).passed).toBe(14);
  });

  it("passes exactly what the new limit leaves of what was counted, for any limits (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("second" as const, "minute" as const, "hour" as const),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        (window, before, after, wanted) => {
          const used = burst(window, before, Math.min(wanted, before), T0);
          const passed = burst(window, after, after + 5, T0, used.states).passed;
          expect(passed).toBe(Math.max(0, after - used.passed));
          // However the limit moved, a window after the last request counted it is free again.
          const later = T0 + GCRA_MS[window];
          expect(burst(window, after, after + 5, later, used.states).passed).toBe(after);
        },
      ),
    );
  });

  it("restates what was counted without float error: 6 of 229 a second leave 1 of a lowered 7", () => {
    // Found by the property above: the stored time's rounding, multiplied by 229/7, refused it.
    const used = burst("second", 229, 6, T0);
    expect(burst("second", 7, 12, T0, used.states).passed).toBe(1);
  });

  it("reads a state stored without its limit (before this revision) under the current limit", () => {
    const stored: WindowStates = { minute: { tat: T0 + 30_000 } };
    // 30 s of a 10-a-minute window: 5 counted, 5 left.
    expect(burst("minute", 10, 10, T0, stored).passed).toBe(5);
  });
});
