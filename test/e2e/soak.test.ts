/**
 * The soak's short form (bench/soak, `npm run soak` for the long one): a minute of continuous
 * traffic under `wrangler dev` with leases on, random admin changes hammered by clients, no
 * kills, a fixed seed; every invariant of bench/soak/checks.ts must hold.
 */
import { describe, expect, it } from "vitest";
import { formatResult, runSoak } from "../../bench/soak/soak.ts";

describe("soak, short form", () => {
  it("keeps every invariant through a minute of traffic and random admin changes", async () => {
    const lines: string[] = [];
    const report = await runSoak({
      minutes: 1,
      seed: 20261123,
      kills: 0,
      clients: 6,
      log: (line) => lines.push(line),
    });
    const all = report.results.flatMap(formatResult);
    console.log([...lines, ...all, ...report.summary].join("\n"));
    expect(report.results.filter((r) => !r.ok).flatMap(formatResult)).toEqual([]);
    expect(report.results.map((r) => r.name)).toEqual([
      "restrictions",
      "credits",
      "windows",
      "usage",
      "origin",
      "audit+events",
      "no-5xx",
    ]);
    // The run exercised what the invariants are about.
    for (const r of report.results) expect(r.checked, r.name).toBeGreaterThan(0);
    const changes = new Set(report.world.changes.map((c) => c.kind));
    expect(changes.size).toBeGreaterThanOrEqual(6);
    const codes = new Set(report.world.requests.map((r) => r.code));
    expect(codes).toContain("valid");
    expect(codes).toContain("rate_limited");
  }, 600_000);
});
