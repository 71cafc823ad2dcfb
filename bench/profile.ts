/**
 * `npm run bench:profile`: where the warm proxy path (scenario (b): default policy, a warm valid
 * key) spends its CPU. Starts the bench origin and Portcullis under `wrangler dev`, warms the key,
 * then profiles the Worker through `wrangler dev`'s inspector (Chrome DevTools protocol
 * `Profiler.start`/`Profiler.stop`) while autocannon drives it, and prints the top frames by
 * self time, mapped to src/ through the bundle's source map, then the src/ functions by total
 * time (themselves and what they call). A frame without a place is native: time spent in the
 * runtime's C++ (a subrequest, a Response, crypto) is charged to the builtin that called it.
 * The profiler counts wall time between samples on the Worker's thread, so on shared cores its
 * milliseconds include time the thread waited for a core: read the shares, not the milliseconds.
 *
 *   PROFILE_SECONDS      seconds under load while profiling (default 10)
 *   PROFILE_CONNECTIONS  autocannon connections (default 32)
 *   PROFILE_TOP          frames printed (default 15)
 *   PROFILE_SCENARIO     warm (b, default), malformed (e) or unknown (f): the abuse paths; or
 *                        cold (h): the first request of each of PROFILE_COLD_KEYS keys (default
 *                        600) after a restart, one each (the objects run in the profiled isolate)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { measure, type Target } from "./load.ts";
import { startBenchOrigin } from "./origin.ts";
import { adminCall, createKeys, HIGH_LIMIT, MALFORMED_KEY, startPortcullis, UNKNOWN_KEY } from "./stack.ts";

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 32);
const TOP = Number(process.env.PROFILE_TOP ?? 15);
const SCENARIOS = {
  warm: "(b) warm proxy",
  malformed: "(e) malformed key",
  unknown: "(f) unknown key",
  cold: "(h) first request of a key never seen",
};
const COLD_KEYS = Number(process.env.PROFILE_COLD_KEYS ?? 600);
const SCENARIO = (process.env.PROFILE_SCENARIO ?? "warm") as keyof typeof SCENARIOS;
if (!Object.hasOwn(SCENARIOS, SCENARIO))
  throw new Error(`PROFILE_SCENARIO is one of ${Object.keys(SCENARIOS).join(", ")}`);
/** Sampling interval of the profiler, µs. */
const SAMPLING_US = 100;

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based. */
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  /** µs between a sample and the one before it. */
  timeDeltas: number[];
}

interface Frame {
  name: string;
  location: string;
  us: number;
}

/** A Chrome DevTools protocol session over the inspector's WebSocket. */
async function connect(inspectorPort: number) {
  const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error("the inspector lists no Worker");
  // wrangler's inspector proxy wants a local Origin.
  const socket = new WebSocket(url, { headers: { Origin: "http://localhost" } } as unknown as string[]);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let next = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id === undefined) return;
    const resolve = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) throw new Error(`inspector: ${JSON.stringify(message.error)}`);
    resolve?.(message.result);
  });
  return {
    send<T>(method: string, params: object = {}): Promise<T> {
      const id = next++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => pending.set(id, resolve as (result: unknown) => void));
    },
    close: () => socket.close(),
  };
}

/**
 * The source maps of wrangler's bundles, by the bundle's path, newest first: other `wrangler dev`
 * runs (a test suite) leave bundles of older source in the same folder, and a frame's URL names
 * only the bundle's file, so the newest bundle of that name is the one being profiled.
 */
function bundleMaps(): Map<string, SourceMap> {
  const found: { path: string; modified: number }[] = [];
  const root = join(process.cwd(), ".wrangler", "tmp");
  if (!existsSync(root)) return new Map();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (name.endsWith(".js.map")) found.push({ path, modified: stat.mtimeMs });
    }
  };
  walk(root);
  found.sort((a, b) => b.modified - a.modified);
  return new Map(
    found.map(({ path }) => [
      path.slice(0, -".map".length),
      new SourceMap(JSON.parse(readFileSync(path, "utf8"))),
    ]),
  );
}

function locate(frame: CallFrame, maps: Map<string, SourceMap>): string {
  if (!frame.url) return "(native)";
  const path = frame.url.startsWith("file:") ? fileURLToPath(frame.url) : frame.url;
  const bundle = maps.has(path) ? path : [...maps.keys()].find((candidate) => candidate.endsWith(path));
  // An empty object where the bundle's line has no mapping.
  const entry = (bundle ? maps.get(bundle)?.findEntry(frame.lineNumber, frame.columnNumber) : undefined) as
    | { originalSource?: string; originalLine: number }
    | undefined;
  if (bundle && entry?.originalSource) {
    const source = entry.originalSource.startsWith("file:")
      ? fileURLToPath(entry.originalSource)
      : resolve(dirname(bundle), entry.originalSource);
    // A dependency reads as node_modules/..., wherever node_modules really is.
    const shown = source.includes("/node_modules/")
      ? source.slice(source.lastIndexOf("/node_modules/") + 1)
      : relative(process.cwd(), source);
    return `${shown}:${entry.originalLine + 1}`;
  }
  return `${path}:${frame.lineNumber + 1}`;
}

/** How long each sample lasted: until the next one, as DevTools counts it. */
const duration = (profile: Profile, index: number) => profile.timeDeltas[index + 1] ?? 0;

/**
 * Time by frame (function and where it is), largest first: `self` counts a sample for the frame
 * it was taken in, `total` for every distinct frame on its stack. "(idle)" is left out.
 */
function times(profile: Profile, where: (frame: CallFrame) => string, mode: "self" | "total"): Frame[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const keys = new Map<number, Frame>();
  const frameOf = (id: number): Frame | undefined => {
    const known = keys.get(id);
    if (known) return known;
    const callFrame = byNode.get(id)?.callFrame;
    if (!callFrame) return undefined;
    const frame = { name: callFrame.functionName || "(anonymous)", location: where(callFrame), us: 0 };
    keys.set(id, frame);
    return frame;
  };
  const totals = new Map<string, Frame>();
  profile.samples.forEach((id, index) => {
    if (byNode.get(id)?.callFrame.functionName === "(idle)") return;
    const stack: number[] = [];
    for (let at: number | undefined = id; at !== undefined; at = mode === "self" ? undefined : parent.get(at))
      stack.push(at);
    const seen = new Set<string>();
    for (const node of stack) {
      const frame = frameOf(node);
      if (!frame) continue;
      const key = `${frame.name} ${frame.location}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const total = totals.get(key) ?? { ...frame, us: 0 };
      total.us += duration(profile, index);
      totals.set(key, total);
    }
  });
  return [...totals.values()].sort((a, b) => b.us - a.us);
}

function table(frames: Frame[], busy: number, label: string): void {
  console.log(`| # | ${label} ms | % of busy | function | where |`);
  console.log("| ---: | ---: | ---: | --- | --- |");
  frames.forEach((frame, index) => {
    console.log(
      `| ${index + 1} | ${(frame.us / 1000).toFixed(0)} | ${((frame.us / busy) * 100).toFixed(1)} | ${frame.name} | ${frame.location} |`,
    );
  });
}

async function main(): Promise<void> {
  const origin = await startBenchOrigin();
  const persist = mkdtempSync(join(tmpdir(), "portcullis-profile-"));
  let server = await startPortcullis(origin.url, persist);
  try {
    const workspace = await adminCall(server.url, "/workspaces", { name: "profile" });
    const [warm] = await createKeys(server.url, workspace.id, 1, { limits: { minute: HIGH_LIMIT } });
    const warmup = { url: `${server.url}/api/items`, headers: { Authorization: `Bearer ${MALFORMED_KEY}` } };
    let target: Target;
    let run: { seconds: number } | { requests: number } = { seconds: SECONDS };
    if (SCENARIO === "cold") {
      const cold = await createKeys(server.url, workspace.id, COLD_KEYS, { limits: { minute: HIGH_LIMIT } });
      // A restart unloads every object and empties every isolate's memory, as bench/stack.ts does.
      await server.stop();
      server = await startPortcullis(origin.url, persist);
      warmup.url = `${server.url}/api/items`;
      target = { url: warmup.url, perRequest: () => ({ Authorization: `Bearer ${cold.pop()}` }) };
      run = { requests: COLD_KEYS };
    } else {
      const key = { warm, malformed: MALFORMED_KEY, unknown: UNKNOWN_KEY }[SCENARIO];
      target = { url: `${server.url}/api/items`, headers: { Authorization: `Bearer ${key}` } };
    }
    await measure(SCENARIO === "warm" ? target : warmup, CONNECTIONS, { seconds: 3 });
    const inspector = await connect(server.inspectorPort);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_US });
    await inspector.send("Profiler.start");
    const sample = await measure(target, CONNECTIONS, run);
    const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
    inspector.close();
    const maps = bundleMaps();
    const where = (frame: CallFrame) => locate(frame, maps);
    const self = times(profile, where, "self");
    const busy = self.reduce((sum, frame) => sum + frame.us, 0);
    console.log(
      `${SCENARIOS[SCENARIO]}, ${CONNECTIONS} connections, ${"seconds" in run ? `${run.seconds} s` : `${run.requests} requests`}: ${sample.requests} requests, ${sample.requestsPerSecond.toFixed(0)} req/s, workerd ${sample.cpu.workerdUs.toFixed(0)} µs/req, wrangler ${sample.cpu.wranglerUs.toFixed(0)} µs/req; the Worker's thread busy ${(busy / 1000).toFixed(0)} ms of the profile`,
    );
    console.log(`\nTop ${TOP} frames by self time:\n`);
    table(self.slice(0, TOP), busy, "self");
    console.log(`\nTop ${TOP} src/ functions by total time (with what they call):\n`);
    const own = times(profile, where, "total").filter((frame) => frame.location.startsWith("src/"));
    table(own.slice(0, TOP), busy, "total");
  } finally {
    await server.stop();
    await origin.close();
    rmSync(persist, { recursive: true, force: true });
  }
}

await main();
