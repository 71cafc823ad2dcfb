/**
 * The benchmark's Markdown report: one row per scenario and load shape (the median of the
 * rounds), the ratio to the baseline measured in the same run, and the targets of issue 6.
 */
import type { Sample } from "./load.ts";
import { type Results, SCENARIOS, SHAPES } from "./scenarios.ts";

interface Row {
  rps: number;
  p50: number;
  p99: number;
  meanMs: number;
  errors: number;
  statuses: Record<string, number>;
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
  return {
    rps: median(samples.map((s) => s.requestsPerSecond)),
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    meanMs: median(samples.map((s) => s.meanMs)),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    statuses,
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

export function report(results: Results): string {
  const table = rows(results);
  const base = table.a;
  const lines = [
    `Run ${results.at} on ${results.machine}: ${results.rounds} interleaved rounds of ${results.secondsPerRun} s per scenario and shape (median shown); (h) is one pass over its fresh keys. Everything (load generator, wrangler dev, origin) shares the machine: compare ratios, not absolute figures.`,
    "",
    "| scenario | connections | req/s | × (a) | p50 ms | p99 ms | mean ms | + ms vs (a) | errors | statuses |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const id of ["z", "a", "b", "b0", "bs", "bf", "bf0", "c", "d", "e", "f", "g", "h", "j", "i"]) {
    for (const connections of SHAPES) {
      const row = table[id]?.[connections];
      const reference = base?.[connections];
      if (!row || !reference) continue;
      const statuses = Object.entries(row.statuses)
        .map(([code, count]) => `${code}: ${count}`)
        .join(", ");
      lines.push(
        `| (${id}) ${NAMES[id]} | ${connections} | ${row.rps.toFixed(0)} | ${(row.rps / reference.rps).toFixed(2)} | ${row.p50} | ${row.p99} | ${row.meanMs.toFixed(2)} | ${(row.meanMs - reference.meanMs).toFixed(2)} | ${row.errors} | ${statuses} |`,
      );
    }
  }
  const b32 = table.b?.[32];
  const b1 = table.b?.[1];
  const a32 = base?.[32];
  const a1 = base?.[1];
  const e32 = table.e?.[32];
  const i32 = table.i?.[32];
  const { exactness, bundle } = results;
  lines.push("", "Targets:", "");
  if (b32 && a32 && b1 && a1 && e32 && i32) {
    lines.push(
      `- (b) at least 75% of the baseline's requests/s (32 connections): ${((b32.rps / a32.rps) * 100).toFixed(0)}%, ${pass(b32.rps >= 0.75 * a32.rps)}`,
      `- (b) p50 at one connection at most 1 ms above the baseline's: p50 ${b1.p50} vs ${a1.p50} ms, mean ${b1.meanMs.toFixed(2)} vs ${a1.meanMs.toFixed(2)} ms (+${(b1.meanMs - a1.meanMs).toFixed(2)}), ${pass(b1.p50 - a1.p50 <= 1 && b1.meanMs - a1.meanMs <= 1)}`,
      `- (e) at least the baseline's requests/s: ${((e32.rps / a32.rps) * 100).toFixed(0)}%, ${pass(e32.rps >= a32.rps)}`,
      `- (b) ahead of (i) on requests/s and p99: ${b32.rps.toFixed(0)} vs ${i32.rps.toFixed(0)} req/s, p99 ${b32.p99} vs ${i32.p99} ms, ${pass(b32.rps > i32.rps && b32.p99 <= i32.p99)}`,
    );
  }
  const bs32 = table.bs?.[32];
  const bs1 = table.bs?.[1];
  if (bs32 && bs1 && a32 && a1 && i32) {
    lines.push(
      `- (bs) the same with allowed requests logged at 1%: ${((bs32.rps / a32.rps) * 100).toFixed(0)}% of the baseline's requests/s, ${pass(bs32.rps >= 0.75 * a32.rps)}; p50 at one connection ${bs1.p50} vs ${a1.p50} ms, mean +${(bs1.meanMs - a1.meanMs).toFixed(2)} ms, ${pass(bs1.p50 - a1.p50 <= 1 && bs1.meanMs - a1.meanMs <= 1)}; ahead of (i): ${bs32.rps.toFixed(0)} vs ${i32.rps.toFixed(0)} req/s, p99 ${bs32.p99} vs ${i32.p99} ms, ${pass(bs32.rps > i32.rps && bs32.p99 <= i32.p99)}`,
    );
  }
  const bf1 = table.bf?.[1];
  const b0_32 = table.b0?.[32];
  const z32 = table.z?.[32];
  if (b1 && bf1) {
    lines.push(
      `- (bf) far object: p50 at one connection within 1 ms of the near one (b): ${bf1.p50} vs ${b1.p50} ms, mean ${bf1.meanMs.toFixed(2)} vs ${b1.meanMs.toFixed(2)} ms, ${pass(bf1.p50 - b1.p50 <= 1)}`,
    );
  }
  if (b32 && b0_32 && a32 && z32) {
    lines.push(
      `- leases: (b) ${(b32.rps / a32.rps).toFixed(2)}x the baseline with leases, (b0) ${(b0_32.rps / a32.rps).toFixed(2)}x without; the empty Worker (z), the harness's ceiling, is ${(z32.rps / a32.rps).toFixed(2)}x the baseline`,
    );
  }
  lines.push(
    `- exactness, ${exactness.sent} concurrent requests at a limit of ${exactness.limit}: Portcullis let ${exactness.portcullis} through, the peer ${exactness.peer}; ${exactness.portcullis === exactness.limit ? "Portcullis exact" : "**Portcullis not exact**"}${exactness.peer === exactness.limit ? ", the peer exact too" : ", the peer not exact"}`,
    `- bundle (wrangler deploy --dry-run): ${(bundle.rawBytes / 1024).toFixed(0)} KiB raw, ${(bundle.gzipBytes / 1024).toFixed(0)} KiB gzip, budget ${bundle.budgetGzipBytes / 1024} KiB gzip, ${pass(bundle.gzipBytes <= bundle.budgetGzipBytes)}`,
    "",
  );
  return lines.join("\n");
}
