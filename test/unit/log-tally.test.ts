/**
 * The flood rule of the log (docs/consistency.md, Logs): per isolate, after 10 lines a minute
 * for one decision code and client IP (IPv6 by /64), further denials are counted, not logged,
 * and the next line after that minute is preceded by one summary line per pair.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DENIAL_LINES_PER_MINUTE,
  DenialTally,
  denialAdmitted,
  logEvent,
  MAX_TALLIED_PAIRS,
  tallyAddress,
  useDenialTally,
} from "../../src/log";

/** 12:00:00 UTC: the start of a clock minute. */
const T0 = Date.UTC(2027, 0, 15, 12, 0, 0);

function clockAt(start: number) {
  const clock = { now: start };
  return { clock, tally: new DenialTally({ now: () => clock.now }) };
}

/** How many of `count` denials of one pair the tally lets through to the log. */
function admitted(tally: DenialTally, code: string, ip: string | null, count: number): number {
  let logged = 0;
  for (let i = 0; i < count; i++) if (tally.admit(code, ip)) logged += 1;
  return logged;
}

describe("denial tally", () => {
  it("logs 10 denials of a pair a minute, counts the rest and reports them once the minute is over", () => {
    const { clock, tally } = clockAt(T0 + 5_000);
    expect(DENIAL_LINES_PER_MINUTE).toBe(10);
    expect(admitted(tally, "invalid_key", "203.0.113.7", 25)).toBe(10);
    clock.now = T0 + 59_999;
    expect(tally.due()).toEqual([]);
    clock.now = T0 + 60_000;
    expect(tally.due()).toEqual([
      { code: "invalid_key", clientIp: "203.0.113.7", suppressed: 15, minute: new Date(T0).toISOString() },
    ]);
    // Each summary is reported once; the new minute starts with a fresh allowance.
    expect(tally.due()).toEqual([]);
    expect(admitted(tally, "invalid_key", "203.0.113.7", 10)).toBe(10);
  });

  it("tallies each code and each client IP apart", () => {
    const { tally } = clockAt(T0);
    expect(admitted(tally, "invalid_key", "203.0.113.7", 30)).toBe(10);
    expect(admitted(tally, "malformed_key", "203.0.113.7", 3)).toBe(3);
    expect(admitted(tally, "invalid_key", "203.0.113.8", 3)).toBe(3);
    expect(admitted(tally, "invalid_key", null, 3)).toBe(3);
  });

  it("reports no summary for a pair that stayed within its 10 lines", () => {
    const { clock, tally } = clockAt(T0);
    expect(admitted(tally, "rate_limited", "203.0.113.7", 10)).toBe(10);
    clock.now = T0 + 120_000;
    expect(tally.due()).toEqual([]);
  });

  it("tallies IPv6 addresses by their /64", () => {
    const { tally } = clockAt(T0);
    expect(admitted(tally, "invalid_key", "2001:db8:1:2::1", 6)).toBe(6);
    expect(admitted(tally, "invalid_key", "2001:0db8:0001:0002:ffff:ffff:ffff:ffff", 6)).toBe(4);
    expect(admitted(tally, "invalid_key", "2001:db8:1:3::1", 6)).toBe(6);
    expect(tallyAddress("2001:DB8:1:2:aaaa::9")).toBe("2001:db8:1:2::/64");
    expect(tallyAddress("2001:db8::1")).toBe("2001:db8::/64");
    expect(tallyAddress("::ffff:198.51.100.1")).toBe("198.51.100.1");
    expect(tallyAddress("198.51.100.1")).toBe("198.51.100.1");
    // An address that is not one (only a local tool without Cloudflare sends such) is unknown.
    expect(tallyAddress("not-an-ip")).toBeNull();
    expect(tallyAddress("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(tallyAddress(null)).toBeNull();
  });

  it("tallies at most 1,000 pairs: a pair beyond them is logged, each denial, until the minute ends", () => {
    const { clock, tally } = clockAt(T0);
    expect(MAX_TALLIED_PAIRS).toBe(1000);
    for (let i = 0; i < MAX_TALLIED_PAIRS; i++) tally.admit("invalid_key", `10.0.${i >> 8}.${i & 255}`);
    expect(tally.size).toBe(MAX_TALLIED_PAIRS);
    expect(admitted(tally, "invalid_key", "198.51.100.1", 30)).toBe(30);
    expect(tally.size).toBe(MAX_TALLIED_PAIRS);
    // A pair already tallied is still held to its 10 lines.
    expect(admitted(tally, "invalid_key", "10.0.0.0", 30)).toBe(9);
    clock.now = T0 + 60_000;
    expect(tally.due()).toEqual([
      { code: "invalid_key", clientIp: "10.0.0.0", suppressed: 21, minute: new Date(T0).toISOString() },
    ]);
    expect(tally.size).toBe(0);
    expect(admitted(tally, "invalid_key", "198.51.100.1", 30)).toBe(10);
  });

  it("never holds more than 1,000 pairs, nor more summaries, whatever the denials and times", () => {
    const denial = fc.record({
      code: fc.constantFrom("invalid_key", "malformed_key", "rate_limited", "ip_not_allowed"),
      ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(null), fc.string({ maxLength: 60 })),
      advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 90_000 })),
      repeat: fc.integer({ min: 1, max: 15 }),
    });
    fc.assert(
      fc.property(
        fc.array(denial, { maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        (denials, spread) => {
          const { clock, tally } = clockAt(T0);
          let sent = 0;
          let logged = 0;
          let reported = 0;
          for (const { code, ip, advanceMs, repeat } of denials) {
            clock.now += advanceMs;
            for (let i = 0; i < repeat * spread; i++) {
              sent += 1;
              // Spread one input over many addresses to reach the cap.
              const address = i % spread === 0 ? ip : `10.${spread}.${(i >> 8) & 255}.${i & 255}`;
              // As log.ts does: every admitted denial writes a line, which reports what is due first.
              if (tally.admit(code, address)) {
                logged += 1;
                reported += tally.due().reduce((sum, line) => sum + line.suppressed, 0);
              }
              expect(tally.size).toBeLessThanOrEqual(MAX_TALLIED_PAIRS);
              expect(tally.pending).toBeLessThanOrEqual(MAX_TALLIED_PAIRS);
            }
          }
          clock.now += 60_000;
          reported += tally.due().reduce((sum, line) => sum + line.suppressed, 0);
          // Every denial is either a line or counted in a summary.
          expect(logged + reported).toBe(sent);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("summary lines", () => {
  let previous: DenialTally | undefined;
  afterEach(() => {
    if (previous) useDenialTally(previous);
    vi.restoreAllMocks();
  });

  it("precede the isolate's first log line after the minute, whatever that line is", () => {
    const { clock, tally } = clockAt(T0);
    previous = useDenialTally(tally);
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: unknown) => {
        lines.push(String(line));
      });
    }
    const deny = (code: string) => {
      if (denialAdmitted(code, "203.0.113.7")) logEvent("info", "request", { decision: code, status: 401 });
    };
    for (let i = 0; i < 25; i++) deny("invalid_key");
    deny("malformed_key");
    expect(lines).toHaveLength(11);
    clock.now = T0 + 61_000;
    logEvent("error", "dependency_failed", { error: "D1 down" });
    expect(lines.slice(11).map((line) => JSON.parse(line))).toEqual([
      {
        level: "warn",
        event: "denials_suppressed",
        code: "invalid_key",
        clientIp: "203.0.113.7",
        suppressed: 15,
        minute: new Date(T0).toISOString(),
      },
      { level: "error", event: "dependency_failed", error: "D1 down" },
    ]);
  });
});
