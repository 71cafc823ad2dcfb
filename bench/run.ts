/**
 * `npm run bench`: Portcullis against a bare Worker and against the stack users would build
 * instead, on this machine. Starts everything itself, drives each scenario with autocannon for a
 * fixed time at 32 connections and at 1, interleaving scenarios round after round so that they
 * share the machine's noise, and writes bench/results/latest.{md,json}. Each run also reads from
 * /proc the CPU time its `wrangler dev` spent (workerd apart from wrangler's own processes) and
 * divides it by the requests served: on shared cores, the steadier figure (bench/proc-cpu.ts).
 *
 *   BENCH_SECONDS  seconds per scenario and shape and round (default 5)
 *   BENCH_ROUNDS   rounds (default 3)
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { bundleSize } from "./bundle.ts";
import { exactness } from "./exactness.ts";
import { measure, type Sample, type Target } from "./load.ts";
import { report, rows, targets } from "./report.ts";
import { type Results, SCENARIOS, SHAPES } from "./scenarios.ts";
import { type Stack, startStack } from "./stack.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Keys never seen before, for the cold scenario: one per request. */
const COLD_KEYS = 1_200;
/** How long a key's object waits before writing usage behind to D1 (FLUSH_DELAY_MS of src/key-object/usage.ts). */
const FLUSH_DELAY_MS = 30_000;

/** Scenario (h): each request a key never seen before, so a fixed number of requests. */
async function coldScenario(stack: Stack): Promise<Record<number, Sample>> {
  const keys = [...stack.keys.cold];
  const next = () => ({ Authorization: `Bearer ${keys.pop() ?? stack.keys.unknown}` });
  const target: Target = { url: `${stack.portcullis.url}/api/items`, perRequest: next };
  const half = Math.floor(keys.length / 2);
  return {
    32: await measure(target, 32, { requests: half }),
    1: await measure(target, 1, { requests: keys.length }),
  };
}

async function main(): Promise<void> {
  const stack = await startStack(COLD_KEYS);
  try {
    const samples: Results["samples"] = {};
    console.log(`cold keys (h): ${COLD_KEYS} keys never seen by this process`);
    const cold = await coldScenario(stack);
    samples.h = { 32: [cold[32] as Sample], 1: [cold[1] as Sample] };
    for (const [connections, sample] of Object.entries(cold))
      console.log(
        `(h) @${connections}: ${sample.requestsPerSecond.toFixed(0)} req/s, workerd ${sample.cpu.workerdUs.toFixed(0)} µs/req, wrangler ${sample.cpu.wranglerUs.toFixed(0)} µs/req`,
      );
    // Before scenario (f) floods unknown keys from this IP and trips the abuse limit, which
    // would refuse the exactness run's key (new to the isolate) too.
    const exact = await exactness(stack);
    // Every key used so far writes its usage behind to D1 by alarm 30 s after its request; let
    // those 1,200 writes pass before measuring, or they land in whichever scenario runs then.
    await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS + 5_000));
    for (const scenario of SCENARIOS) await measure(scenario.target(stack), 8, { seconds: 1 });
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of SCENARIOS) {
        for (const connections of SHAPES) {
          const sample = await measure(scenario.target(stack), connections, { seconds: SECONDS });
          samples[scenario.id] ??= { 32: [], 1: [] };
          samples[scenario.id]?.[connections]?.push(sample);
          console.log(
            `round ${round} (${scenario.id}) ${scenario.name} @${connections}: ${sample.requestsPerSecond.toFixed(0)} req/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms, workerd ${sample.cpu.workerdUs.toFixed(0)} µs/req, wrangler ${sample.cpu.wranglerUs.toFixed(0)} µs/req`,
          );
        }
      }
    }
    const results: Results = {
      at: new Date().toISOString(),
      secondsPerRun: SECONDS,
      rounds: ROUNDS,
      machine: `${process.platform} ${process.arch}, ${cpus().length} cores, Node ${process.version}`,
      samples,
      exactness: exact,
      bundle: bundleSize(),
    };
    const markdown = report(results);
    const json = { ...results, rows: rows(results), targets: targets(results) };
    writeFileSync("bench/results/latest.json", `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync("bench/results/latest.md", markdown);
    console.log(`\n${markdown}`);
  } finally {
    await stack.stop();
  }
}

await main();
