/**
 * `node bench/cold.ts`: the cold path alone (docs/performance.md#the-cold-path). For a near D1,
 * a far one without read replication (`BENCH_D1_DELAY_MS`, D1_DELAY_MS each way, replica
 * sessions reading the far primary too) and a far primary with a read replica near the location
 * (`BENCH_D1_REPLICA_DELAY_MS` 0), one pass of first requests of keys
 * never seen (a D1 read each), then, after a restart that empties every isolate and unloads
 * every object, one pass over the same keys, whose lookups the location's Cache API now holds.
 * Reports req/s against the bare Worker measured in the same run, and the CPU time the
 * `wrangler dev` process tree spent per request (less sensitive to the machine's load).
 *
 *   BENCH_COLD_KEYS  keys per pass and variant (default 400: half at 32 connections, half at 1)
 *   BENCH_D1_DELAY   the far D1's added latency each way, ms (default 25)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { DevServer } from "../test/e2e/wrangler-dev.ts";
import { startWranglerDev } from "../test/e2e/wrangler-dev.ts";
import { measure, type Sample } from "./load.ts";
import { startBenchOrigin } from "./origin.ts";
import { adminCall, createKeys, HIGH_LIMIT, startPortcullis } from "./stack.ts";

const KEYS = Number(process.env.BENCH_COLD_KEYS ?? 400);
const D1_DELAY_MS = Number(process.env.BENCH_D1_DELAY ?? 25);
const BASELINE_SECONDS = 5;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The pid of each process under /proc, with its parent. */
function processes(): { pid: number; ppid: number; cmdline: string }[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
        return [{ pid: Number(name), ppid: Number(fields[1]), cmdline }];
      } catch {
        return [];
      }
    });
}

/** CPU ms (user + system) spent so far by the `wrangler dev` serving `server` and its children. */
function treeCpuMs(server: DevServer): number {
  const port = new URL(server.url).port;
  const all = processes();
  const root = all.find((p) => p.cmdline.includes(" dev ") && p.cmdline.includes(`--port ${port} `));
  if (!root) throw new Error(`no wrangler dev process on port ${port}`);
  const tree = new Set([root.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (tree.has(p.ppid) && !tree.has(p.pid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of tree) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

interface Pass {
  samples: Record<number, Sample>;
  cpuMsPerRequest: number;
}

/** Requests that warm the new isolate's code without any key (malformed: no storage read). */
const WARMUP_REQUESTS = 200;

/** One request per key, half of them at 32 connections, the rest at 1, after a warmup. */
async function pass(server: DevServer, keys: string[]): Promise<Pass> {
  const malformed = { Authorization: "Bearer bk_not-a-well-formed-key" };
  await measure({ url: `${server.url}/api/items`, headers: malformed }, 8, { requests: WARMUP_REQUESTS });
  const queue = [...keys];
  const target = {
    url: `${server.url}/api/items`,
    perRequest: () => ({ Authorization: `Bearer ${queue.pop()}` }),
  };
  const before = treeCpuMs(server);
  const half = Math.floor(keys.length / 2);
  const samples = {
    32: await measure(target, 32, { requests: half }),
    1: await measure(target, 1, { requests: keys.length - half }),
  };
  return { samples, cpuMsPerRequest: (treeCpuMs(server) - before) / keys.length };
}

interface D1Shape {
  d1DelayMs: number;
  /** The replica sessions' delay; undefined: the primary's (no replication). */
  d1ReplicaDelayMs?: number;
}

interface VariantResult extends D1Shape {
  cold: Pass;
  cached: Pass;
}

async function variant(origin: string, shape: D1Shape, persists: string[]): Promise<VariantResult> {
  const persist = mkdtempSync(join(tmpdir(), "portcullis-bench-cold-"));
  persists.push(persist);
  const options = shape;
  let server = await startPortcullis(origin, persist, options);
  try {
    const workspace = await adminCall(server.url, "/workspaces", { name: "bench" });
    const keys = await createKeys(server.url, workspace.id, KEYS, { limits: { minute: HIGH_LIMIT } });
    // A restart empties every isolate and unloads every object: first requests pay the lookup
    // and the object's start, as in production.
    await server.stop();
    server = await startPortcullis(origin, persist, options);
    const cold = await pass(server, keys);
    await server.stop();
    server = await startPortcullis(origin, persist, options);
    const cached = await pass(server, keys);
    return { ...shape, cold, cached };
  } finally {
    await server.stop();
  }
}

function rowsOf(results: VariantResult[], baseline: Record<number, Sample>): string[] {
  const lines = [
    "| scenario | connections | req/s | × (a) | p50 ms | p99 ms | mean ms | CPU ms/request | statuses |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  const row = (name: string, connections: 32 | 1, sample: Sample, cpu: string) => {
    const reference = baseline[connections] as Sample;
    const statuses = Object.entries(sample.statuses)
      .map(([code, count]) => `${code}: ${count}`)
      .join(", ");
    lines.push(
      `| ${name} | ${connections} | ${sample.requestsPerSecond.toFixed(0)} | ${(sample.requestsPerSecond / reference.requestsPerSecond).toFixed(2)} | ${sample.p50} | ${sample.p99} | ${sample.meanMs.toFixed(2)} | ${cpu} | ${statuses} |`,
    );
  };
  for (const connections of [32, 1] as const) {
    row("(a) baseline: bare pass-through Worker", connections, baseline[connections] as Sample, "");
  }
  for (const { d1DelayMs, d1ReplicaDelayMs, cold, cached } of results) {
    const d1 = !d1DelayMs
      ? "near D1"
      : d1ReplicaDelayMs === undefined
        ? `D1 +${d1DelayMs} ms each way, no replica`
        : `primary +${d1DelayMs} ms each way, replica +${d1ReplicaDelayMs} ms`;
    for (const connections of [32, 1] as const) {
      row(
        `(h) key never seen, ${d1}`,
        connections,
        cold.samples[connections] as Sample,
        cold.cpuMsPerRequest.toFixed(2),
      );
    }
    for (const connections of [32, 1] as const) {
      row(
        `(hc) new isolate, key in the location's cache, ${d1}`,
        connections,
        cached.samples[connections] as Sample,
        cached.cpuMsPerRequest.toFixed(2),
      );
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const origin = await startBenchOrigin();
  const persists: string[] = [];
  const baselineServer = await startWranglerDev({
    config: "bench/baseline/wrangler.toml",
    migrate: false,
    vars: { ORIGIN: origin.url },
  });
  try {
    const results = [
      await variant(origin.url, { d1DelayMs: 0 }, persists),
      await variant(origin.url, { d1DelayMs: D1_DELAY_MS }, persists),
      await variant(origin.url, { d1DelayMs: D1_DELAY_MS, d1ReplicaDelayMs: 0 }, persists),
    ];
    const target = { url: `${baselineServer.url}/api/items` };
    const baseline = {
      32: await measure(target, 32, { seconds: BASELINE_SECONDS }),
      1: await measure(target, 1, { seconds: BASELINE_SECONDS }),
    };
    const machine = `${process.platform} ${process.arch}, ${cpus().length} cores, Node ${process.version}`;
    const markdown = [
      `Cold path, run ${new Date().toISOString()} on ${machine}: ${KEYS} keys per variant, one request each per pass (half at 32 connections, half at 1). CPU ms/request is the \`wrangler dev\` process tree's (workerd and wrangler) over the pass, both shapes.`,
      "",
      ...rowsOf(results, baseline),
      "",
    ].join("\n");
    writeFileSync("bench/results/cold.md", markdown);
    console.log(`\n${markdown}`);
  } finally {
    await baselineServer.stop();
    await origin.close();
    for (const path of persists) rmSync(path, { recursive: true, force: true });
  }
}

await main();
