/**
 * The benchmark's Markdown report: one row per scenario and load shape (the median of the
 * rounds; CPU per request over all of them), the ratio to the baseline measured in the same run,
 * and the targets, each with its measured value.
 */
import type { Sample } from "./load.ts";
import { type Results, SCENARIOS, SHAPES } from "./scenarios.ts";

export interface Row {
  rps: number;
  p50: number;
  p99: number;
  meanMs: number;
  errors: number;
  statuses: Record<string, number>;
  requests: number;
  /** CPU per request of the scenario's workerd processes and of wrangler's own, µs: all the
   * rounds' CPU over all their requests. */
  workerdUs: number;
  wranglerUs: number;
}

/** A target of the benchmark, what this run measured for it, and whether it was met. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function combine(samples: Sample[]): Row {
  const statuses: Record<string, number> = {};
  for (const sample of samples) {
    for (const [code, count] of Object.entries(sample.statuses))
      statuses[code] = (statuses[code] ?? 0) + count;
  }
  const sum = (value: (sample: Sample) => number) => samples.reduce((total, s) => total + value(s), 0);
  const requests = sum((s) => s.requests);
  return {
    rps: median(samples.map((s) => s.requestsPerSecond)),
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    meanMs: median(samples.map((s) => s.meanMs)),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    statuses,
    requests,
    workerdUs: requests > 0 ? (sum((s) => s.cpu.workerdMs) * 1000) / requests : 0,
    wranglerUs: requests > 0 ? (sum((s) => s.cpu.wranglerMs) * 1000) / requests : 0,
  };
}

const NAMES: Record<string, string> = {
  ...Object.fromEntries(SCENARIOS.map((s) => [s.id, s.name])),
  h: "first request of a key never seen (cold object, D1 read)",
};

const pass = (ok: boolean) => (ok ? "met" : "**missed**");

export function rows(results: Results): Record<string, Record<number, Row>> {
  const table: Record<string, Record<number, Row>> = {};
  for (const [id, shapes] of Object.entries(results.samples)) {
    table[id] = {};
    for (const [connections, samples] of Object.entries(shapes)) {
      if (samples.length > 0) (table[id] as Record<number, Row>)[Number(connections)] = combine(samples);
    }
  }
  return table;
}

/** Display order of the rows. */
const ORDER = ["z", "a", "b", "b0", "bl", "bf", "bf0", "c", "d", "e", "f", "g", "h", "j", "i"];

const ratio = (value: number, reference: number) => `${(value / reference).toFixed(2)}x`;

/** The targets, each measured in this run against this run's baseline (a) and peer (i). */
export function targets(results: Results): TargetCheck[] {
  const table = rows(results);
  const at = (id: string, connections: number) => table[id]?.[connections];
  const a32 = at("a", 32);
  const a1 = at("a", 1);
  const b32 = at("b", 32);
  const b1 = at("b", 1);
  const i32 = at("i", 32);
  const checks: TargetCheck[] = [];
  if (a32 && b32)
    checks.push(
      {
        target: "(b) warm proxy at least 0.80x the baseline's req/s (32 connections)",
        measured: `${ratio(b32.rps, a32.rps)} (${b32.rps.toFixed(0)} vs ${a32.rps.toFixed(0)} req/s)`,
        met: b32.rps >= 0.8 * a32.rps,
      },
      {
        target:
          "(b) warm proxy's workerd CPU per request at most 200 µs above the baseline's (32 connections)",
        measured: `${b32.workerdUs.toFixed(0)} vs ${a32.workerdUs.toFixed(0)} µs (+${(b32.workerdUs - a32.workerdUs).toFixed(0)})`,
        met: b32.workerdUs - a32.workerdUs <= 200,
      },
    );
  if (a1 && b1)
    checks.push({
      target: "(b) warm proxy's p50 at one connection at most 1 ms above the baseline's",
      measured: `p50 ${b1.p50} vs ${a1.p50} ms (+${b1.p50 - a1.p50}); mean ${b1.meanMs.toFixed(2)} vs ${a1.meanMs.toFixed(2)} ms (+${(b1.meanMs - a1.meanMs).toFixed(2)})`,
      met: b1.p50 - a1.p50 <= 1,
    });
  for (const [id, what] of [
    ["e", "malformed key"],
    ["f", "unknown key (the abuse path)"],
  ] as const) {
    const row = at(id, 32);
    if (row && a32)
      checks.push({
        target: `(${id}) ${what} at least 1.0x the baseline's req/s (32 connections)`,
        measured: `${ratio(row.rps, a32.rps)} (${row.rps.toFixed(0)} vs ${a32.rps.toFixed(0)} req/s)`,
        met: row.rps >= a32.rps,
      });
  }
  if (b32 && i32)
    checks.push({
      target: "(b) ahead of the peer (i) by at least 1.5x on req/s and on p99 (32 connections)",
      measured: `req/s ${ratio(b32.rps, i32.rps)} (${b32.rps.toFixed(0)} vs ${i32.rps.toFixed(0)}), p99 ${ratio(i32.p99, b32.p99)} lower (${b32.p99} vs ${i32.p99} ms)`,
      met: b32.rps >= 1.5 * i32.rps && 1.5 * b32.p99 <= i32.p99,
    });
  const h32 = at("h", 32);
  if (h32 && a32)
    checks.push({
      target:
        "(h) first request of a key never seen (cold) at least 0.4x the baseline's req/s (32 connections)",
      measured: `${ratio(h32.rps, a32.rps)} (${h32.rps.toFixed(0)} vs ${a32.rps.toFixed(0)} req/s)`,
      met: h32.rps >= 0.4 * a32.rps,
    });
  const { exactness, bundle } = results;
  checks.push(
    {
      target: `exactness: ${exactness.sent} concurrent requests at a limit of ${exactness.limit} let exactly ${exactness.limit} through`,
      measured: `Portcullis ${exactness.portcullis}, the peer ${exactness.peer}`,
      met: exactness.portcullis === exactness.limit,
    },
    {
      target: `bundle (wrangler deploy --dry-run) at most ${bundle.budgetGzipBytes / 1024} KiB gzip`,
      measured: `${(bundle.rawBytes / 1024).toFixed(0)} KiB raw, ${(bundle.gzipBytes / 1024).toFixed(0)} KiB gzip`,
      met: bundle.gzipBytes <= bundle.budgetGzipBytes,
    },
  );
  return checks;
}

export function report(results: Results): string {
  const table = rows(results);
  const base = table.a;
  const lines = [
    `Run ${results.at} on ${results.machine}: ${results.rounds} interleaved rounds of ${results.secondsPerRun} s per scenario and shape (median shown; CPU per request is all rounds' CPU over all their requests); (h) is one pass over its fresh keys. Everything (load generator, wrangler dev, origin) shares the machine: compare ratios and CPU per request, not absolute rates.`,
    "",
    "| scenario | connections | req/s | × (a) | p50 ms | p99 ms | mean ms | + ms vs (a) | workerd µs/req | wrangler µs/req | errors | statuses |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const id of ORDER) {
    for (const connections of SHAPES) {
      const row = table[id]?.[connections];
      const reference = base?.[connections];
      if (!row || !reference) continue;
      const statuses = Object.entries(row.statuses)
        .map(([code, count]) => `${code}: ${count}`)
        .join(", ");
      lines.push(
        `| (${id}) ${NAMES[id]} | ${connections} | ${row.rps.toFixed(0)} | ${(row.rps / reference.rps).toFixed(2)} | ${row.p50} | ${row.p99} | ${row.meanMs.toFixed(2)} | ${(row.meanMs - reference.meanMs).toFixed(2)} | ${row.workerdUs.toFixed(0)} | ${row.wranglerUs.toFixed(0)} | ${row.errors} | ${statuses} |`,
      );
    }
  }
  lines.push("", "Targets:", "");
  for (const check of targets(results))
    lines.push(`- ${check.target}: ${check.measured}, ${pass(check.met)}`);
  const b1 = table.b?.[1];
  const bf1 = table.bf?.[1];
  const b32 = table.b?.[32];
  const b0_32 = table.b0?.[32];
  const a32 = base?.[32];
  const z32 = table.z?.[32];
  lines.push("", "Also measured:", "");
  if (b1 && bf1)
    lines.push(
      `- (bf) far object: p50 at one connection ${bf1.p50} vs ${b1.p50} ms for the near one (b), mean ${bf1.meanMs.toFixed(2)} vs ${b1.meanMs.toFixed(2)} ms`,
    );
  if (b32 && b0_32 && a32 && z32)
    lines.push(
      `- leases: (b) ${(b32.rps / a32.rps).toFixed(2)}x the baseline with leases, (b0) ${(b0_32.rps / a32.rps).toFixed(2)}x without; the empty Worker (z), the harness's ceiling, is ${(z32.rps / a32.rps).toFixed(2)}x the baseline`,
    );
  lines.push("");
  return lines.join("\n");
}
