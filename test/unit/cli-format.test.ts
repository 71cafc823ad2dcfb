/**
 * The CLI's pure helpers: the text a person reads (tables, records, problems, the new key's
 * notice, usage charts) and the parsers of option values.
 */
import { describe, expect, it } from "vitest";
import { grouped, periodsPerPoint, type UsageItem, usageChart, usageTotals } from "../../src/cli/chart.ts";
import { fields, keyStatus, newKeyNotice, problemText, table, text } from "../../src/cli/format.ts";
import { integer, limits, list, refill, refillOf, seconds } from "../../src/cli/parse.ts";

const NOW = new Date("2026-11-23T12:00:00Z");

describe("cli text", () => {
  it("writes nothing as -, lists comma-separated and objects as JSON", () => {
    expect([null, undefined, "", [], {}].map(text)).toEqual(["-", "-", "-", "-", "-"]);
    expect(text(["a", "b"])).toBe("a, b");
    expect(text({ minute: 30 })).toBe('{"minute":30}');
    expect(text(0)).toBe("0");
  });

  it("aligns table columns on the widest cell and says (none) for no rows", () => {
    expect(
      table(
        ["ID", "NAME", "PLAN"],
        [
          ["ws_1", "acme", null],
          ["ws_22", "a", "pro"],
        ],
      ),
    ).toBe("ID     NAME  PLAN\nws_1   acme  -\nws_22  a     pro");
    expect(table(["ID"], [])).toBe("(none)");
  });

  it("aligns record labels", () => {
    expect(
      fields([
        ["id", "key_1"],
        ["permissions", ["a:b"]],
      ]),
    ).toBe("id           key_1\npermissions  a:b");
  });

  it("tells a key's status, revoked before disabled before expired", () => {
    const active = { revokedAt: null, enabled: true, expiresAt: null };
    expect(keyStatus(active, NOW)).toBe("active");
    expect(keyStatus({ ...active, expiresAt: "2026-11-23T11:59:59Z" }, NOW)).toBe("expired");
    expect(keyStatus({ ...active, expiresAt: "2026-11-24T00:00:00Z" }, NOW)).toBe("active");
    expect(keyStatus({ ...active, enabled: false, expiresAt: "2020-01-01T00:00:00Z" }, NOW)).toBe("disabled");
    expect(keyStatus({ revokedAt: "2026-11-01T00:00:00Z", enabled: false, expiresAt: null }, NOW)).toBe(
      "revoked",
    );
  });

  it("sets the new key apart on a line of its own, once", () => {
    const notice = newKeyNotice("sk_live_secret");
    expect(notice.split("\n")).toContain("    sk_live_secret");
    expect(notice.match(/sk_live_secret/g)).toHaveLength(1);
    expect(notice).toMatch(/shown only this once/);
  });

  it("prints a problem's title, code, status, detail, fields and request id", () => {
    const lines = problemText({
      type: "urn:portcullis:problem:bad_request",
      title: "Bad request",
      status: 400,
      code: "bad_request",
      detail: "The request json is invalid.",
      requestId: "req-1",
      errors: [{ field: "name", message: "Too small" }],
      error: { type: "bad_request", message: "The request json is invalid." },
    }).split("\n");
    expect(lines).toEqual([
      "error: Bad request (bad_request, HTTP 400)",
      "  The request json is invalid.",
      "  field name: Too small",
      "  request id: req-1",
    ]);
  });
});

function days(counts: [number, Record<string, number>][]): UsageItem[] {
  return counts.map(([allowed, denied], index) => ({
    day: `2026-11-${String(index + 1).padStart(2, "0")}`,
    allowed,
    denied,
  }));
}

describe("cli usage chart", () => {
  it("groups periods so that they fit, summing each group", () => {
    expect(periodsPerPoint(30, 69)).toBe(1);
    expect(periodsPerPoint(366, 69)).toBe(6);
    expect(grouped([1, 2, 3, 4, 5], 2)).toEqual([3, 7, 5]);
    expect(grouped([1, 2], 1)).toEqual([1, 2]);
  });

  it("draws allowed requests with the range's first and last period under the chart", () => {
    const items = days([
      [0, {}],
      [3, {}],
      [1, {}],
      ...Array.from({ length: 27 }, (): [number, object] => [0, {}]),
    ] as [number, Record<string, number>][]);
    const chart = usageChart(items, 80);
    const lines = chart.split("\n");
    expect(lines[0]).toBe("allowed requests per day");
    // One row per request when there are few: 3, 2, 1, 0.
    expect(lines.slice(1, 5).map((line) => line.trim().split(" ")[0])).toEqual(["3", "2", "1", "0"]);
    const axis = lines[5] ?? "";
    expect(axis.trim()).toMatch(/^2026-11-01 +2026-11-30$/);
    expect(chart).not.toContain("denied requests");
  });

  it("adds a chart of denied requests when there were some, and totals by code", () => {
    const chart = usageChart(
      days([
        [2, { rate_limited: 1 }],
        [0, { rate_limited: 2, key_revoked: 5 }],
      ]),
      80,
    );
    expect(chart).toContain("denied requests per day");
    expect(
      usageTotals(
        days([
          [2, { rate_limited: 1 }],
          [0, { rate_limited: 2, key_revoked: 5 }],
        ]),
      ).split("\n"),
    ).toEqual([
      "TOTAL           REQUESTS",
      "allowed         2",
      "denied          8",
      "  key_revoked   5",
      "  rate_limited  3",
    ]);
  });

  it("says how many periods a point holds when it groups them", () => {
    const items = days(Array.from({ length: 200 }, (): [number, Record<string, number>] => [1, {}]));
    expect(usageChart(items, 80).split("\n")[0]).toBe("allowed requests per 3 days");
  });

  it("answers an empty range in words", () => {
    expect(usageChart([], 80)).toBe("(no periods in this range)");
  });
});

describe("cli option parsers", () => {
  it("reads integers with a floor", () => {
    expect(integer(1)("5")).toBe(5);
    for (const bad of ["0", "", "1.5", "x", "9007199254740993"]) expect(() => integer(1)(bad), bad).toThrow();
  });

  it("reads repeated and comma-separated lists", () => {
    expect(list("a:read, b:write", ["x"])).toEqual(["x", "a:read", "b:write"]);
    expect(list("", undefined)).toEqual([]);
  });

  it("reads per-window limits", () => {
    expect(limits("minute=30,day=1000")).toEqual({ minute: 30, day: 1000 });
    for (const bad of ["week=1", "minute", "minute=-1", "minute=1=2", "constructor=1"]) {
      expect(() => limits(bad), bad).toThrow();
    }
  });

  it("reads a refill or none", () => {
    expect(refill("month:1000")).toEqual({ interval: "month", amount: 1000 });
    expect(refill("none")).toBe("none");
    expect(refillOf(refill("none"))).toBeNull();
    expect(refillOf(refill("day:5"))).toEqual({ interval: "day", amount: 5 });
    for (const bad of ["year:1", "day", "day:x", "day:1:2"]) expect(() => refill(bad), bad).toThrow();
  });

  it("reads positive seconds", () => {
    expect(seconds("0.5")).toBe(0.5);
    for (const bad of ["0", "-1", "", "x", "Infinity"]) expect(() => seconds(bad), bad).toThrow();
  });
});
