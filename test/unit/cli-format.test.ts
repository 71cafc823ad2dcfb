/**
 * The CLI's pure helpers: the text a person reads (tables, records, problems, the new key's
 * notice, usage charts), what a server's strings may put on a terminal, and the parsers of
 * option values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grouped, periodsPerPoint, type UsageItem, usageChart, usageTotals } from "../../src/cli/chart.ts";
import { EXIT, report } from "../../src/cli/errors.ts";
import {
  auditLine,
  auditTable,
  fields,
  jsonText,
  keyRecord,
  keyStatus,
  keyTable,
  newKeyNotice,
  nextPage,
  problemText,
  redactUrl,
  table,
  terminalSafe,
  text,
} from "../../src/cli/format.ts";
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
    }).split("\n");
    expect(lines).toEqual([
      "error: Bad request (bad_request, HTTP 400)",
      "  The request json is invalid.",
      "  field name: Too small",
      "  request id: req-1",
    ]);
  });
});

/** What must never reach a terminal from a server: C0 but newline and tab, DEL, C1. */
const TERMINAL_CONTROL = /(?![\n\t])\p{Cc}/u;
/** A window title (OSC), a colour (CSI), a clear screen in its 8-bit form (C1 CSI), DEL. */
const HOSTILE = "\x1b]0;pwned\x07evil\x1b[31mred\x9b2J\x7f";

/** Any code point, the controls and pieces of escape sequences often. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      "\x1b",
      "\x07",
      "\x9b",
      "\x9c",
      "\x9d",
      "\x90",
      "[",
      "]",
      "\\",
      ";",
      "m",
      "\n",
      "\t",
      "\r",
      "\x7f",
    ),
    fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 80,
});

/** Printable text: no C0 but newline and tab, no DEL, no C1, any other code point. */
const printableText = fc.string({
  unit: fc.oneof(
    fc.constantFrom("\n", "\t"),
    fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    fc
      .integer({ min: 0xa0, max: 0x10ffff })
      .filter((code) => code < 0xd800 || code > 0xdfff)
      .map((code) => String.fromCodePoint(code)),
  ),
  maxLength: 80,
});

describe("cli terminal safety", () => {
  it("never lets a C0 control but newline and tab, DEL or a C1 control through", () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const safe = terminalSafe(value);
        expect(safe).not.toMatch(TERMINAL_CONTROL);
        expect(terminalSafe(safe)).toBe(safe);
      }),
    );
  });

  it("leaves printable text as it is", () => {
    fc.assert(
      fc.property(printableText, (value) => {
        expect(terminalSafe(value)).toBe(value);
      }),
    );
  });

  it("removes whole escape sequences, not only their ESC", () => {
    expect(terminalSafe(HOSTILE)).toBe("evilred");
    expect(terminalSafe("a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b")).toBe("alinkb");
    expect(terminalSafe("a\x1bPdevice\x9cb\x1b7c\x1b(Bd")).toBe("abcd");
    expect(terminalSafe("line\r\nnext\tcell\x00\x08")).toBe("line\nnext\tcell");
  });

  it("writes a server's value as one line of a cell: no newline or tab either", () => {
    fc.assert(
      fc.property(anyText, (value) => {
        expect(text(value)).not.toMatch(/\p{Cc}/u);
      }),
    );
    expect(text(`a${HOSTILE}\nstatus  revoked`)).toBe("aevilred status  revoked");
    expect(text([HOSTILE])).toBe("evilred");
    expect(text({ team: "\x9b2J" })).toBe('{"team":""}');
  });

  it("keeps --json valid JSON that escapes every control and gives back the same value", () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const json = jsonText({ name: value, list: [value] });
        expect(json).not.toMatch(TERMINAL_CONTROL);
        expect(JSON.parse(json)).toEqual({ name: value, list: [value] });
      }),
    );
    expect(jsonText({ a: "\x1b\x7f\x9b" })).toBe('{\n  "a": "\\u001b\\u007f\\u009b"\n}');
  });

  it("strips server strings in every formatter: records, tables, audit lines, problems, the key, the cursor", () => {
    const key = {
      id: `key_1${HOSTILE}`,
      workspaceId: HOSTILE,
      type: HOSTILE,
      name: HOSTILE,
      start: HOSTILE,
      ownerId: HOSTILE,
      permissions: [HOSTILE],
      roles: [HOSTILE],
      meta: { [HOSTILE]: HOSTILE },
      plan: HOSTILE,
      limits: {},
      credits: null,
      ipAllowlist: [HOSTILE],
      enabled: true,
      expiresAt: HOSTILE,
      revokedAt: null,
      createdAt: HOSTILE,
      updatedAt: HOSTILE,
      lastUsedAt: HOSTILE,
      rotatedFrom: HOSTILE,
      createdBy: { type: "portal" as const, id: HOSTILE, name: HOSTILE },
    };
    const entry = {
      id: HOSTILE,
      at: HOSTILE,
      workspaceId: HOSTILE,
      actor: { type: "admin_key" as const, id: HOSTILE },
      action: HOSTILE,
      targetId: HOSTILE,
      requestId: HOSTILE,
    };
    const printed = [
      keyRecord(key, NOW),
      keyTable([key], NOW),
      auditTable([entry]),
      auditLine(entry),
      problemText({
        type: HOSTILE,
        title: HOSTILE,
        status: 400,
        code: HOSTILE as "internal",
        detail: HOSTILE,
        requestId: HOSTILE,
        errors: [{ field: HOSTILE, message: HOSTILE }],
      }),
      newKeyNotice(`sk_live_x${HOSTILE}`),
      nextPage(HOSTILE) ?? "",
      usageChart([{ day: HOSTILE, allowed: 1, denied: { [HOSTILE]: 1 } }], 80),
    ];
    for (const output of printed) {
      expect(output).not.toMatch(TERMINAL_CONTROL);
      expect(output).not.toContain("pwned");
      expect(output).toContain("evilred");
    }
  });

  it("hides a URL's user name and password, parsed or not", () => {
    expect(redactUrl("https://admin:hunter2@api.example.com/x")).toBe("https://***@api.example.com/x");
    expect(redactUrl("https://hunter2@api.example.com")).toBe("https://***@api.example.com");
    expect(redactUrl("http://admin:hunter2/pw@127.0.0.1:99999")).toBe("http://***@127.0.0.1:99999");
    expect(redactUrl("admin:hunter2@api.example.com")).toBe("***@api.example.com");
    expect(redactUrl("https://api.example.com")).toBe("https://api.example.com");
    expect(redactUrl("not a url")).toBe("not a url");
  });
});

describe("cli failures", () => {
  it("reports an unexpected error without its message, which may hold a secret", () => {
    let written = "";
    const code = report(new TypeError('Headers.set: "Bearer pc_admin_secret" is invalid'), (line) => {
      written += line;
    });
    expect(code).toBe(EXIT.internal);
    expect(written).toMatch(/^error: /);
    expect(written).not.toContain("pc_admin_secret");
    expect(written).not.toMatch(/^\s+at /m);
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
