import { describe, expect, it } from "vitest";
import { applyCreditOp, creditState, currentCredits, secondsToRefill } from "../../src/limits/credits";
import { meter } from "../../src/limits/meter";

const T0 = Date.UTC(2027, 4, 10, 18, 0, 0);

describe("credits", () => {
  it("charges the route's cost, refuses a cost above the balance, and charges nothing then", () => {
    const credits = creditState({ remaining: 5, refill: null }, T0);
    const charged = meter({ limits: [], windows: {}, credits, cost: 3, now: T0, take: true });
    expect(charged.code).toBe("valid");
    expect(charged.credits?.remaining).toBe(2);
    const refused = meter({
      limits: [],
      windows: {},
      credits: charged.credits,
      cost: 3,
      now: T0,
      take: true,
    });
    expect(refused.code).toBe("credits_exhausted");
    expect(refused.credits?.remaining).toBe(2);
    expect(refused.retryAfter).toBeNull();
    expect(
      meter({ limits: [], windows: {}, credits: charged.credits, cost: 0, now: T0, take: true }).code,
    ).toBe("valid");
  });

  it("does not charge credits when a limit refuses the request", () => {
    const credits = creditState({ remaining: 5, refill: null }, T0);
    const refused = meter({ limits: [["minute", 0]], windows: {}, credits, cost: 1, now: T0, take: true });
    expect(refused.code).toBe("rate_limited");
    expect(refused.credits?.remaining).toBe(5);
  });

  it("refills to the amount at the start of each UTC day or month", () => {
    const daily = creditState({ remaining: 1, refill: { interval: "day", amount: 100 } }, T0);
    expect(currentCredits(daily, T0 + 3_600_000).remaining).toBe(1);
    expect(currentCredits(daily, Date.UTC(2027, 4, 11)).remaining).toBe(100);
    expect(secondsToRefill(daily.refill, T0)).toBe(6 * 3_600);
    const monthly = creditState({ remaining: 0, refill: { interval: "month", amount: 10 } }, T0);
    expect(currentCredits(monthly, Date.UTC(2027, 4, 31, 23, 59)).remaining).toBe(0);
    expect(currentCredits(monthly, Date.UTC(2027, 5, 1)).remaining).toBe(10);
  });

  it("tells a refused client when the refill comes", () => {
    const empty = creditState({ remaining: 0, refill: { interval: "day", amount: 3 } }, T0);
    const refused = meter({ limits: [], windows: {}, credits: empty, cost: 1, now: T0, take: true });
    expect(refused).toMatchObject({ code: "credits_exhausted", retryAfter: 6 * 3_600 });
  });

  it("sets, raises and lowers a balance, never below zero", () => {
    expect(applyCreditOp(5, "set", 2)).toBe(2);
    expect(applyCreditOp(5, "increment", 2)).toBe(7);
    expect(applyCreditOp(5, "decrement", 2)).toBe(3);
    expect(applyCreditOp(1, "decrement", 5)).toBe(0);
  });
});

describe("credit operations at the edge of exact integers", () => {
  it("an increment never passes Number.MAX_SAFE_INTEGER", () => {
    expect(applyCreditOp(Number.MAX_SAFE_INTEGER - 1, "increment", Number.MAX_SAFE_INTEGER)).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });
});
