/**
 * The soak test (`npm run soak`, and `test/e2e/soak.test.ts` for its short form): Portcullis
 * under `wrangler dev` with leases on, a counting origin and a webhook receiver on this machine,
 * clients sending continuously, an admin loop making random changes with clients hammering the
 * keys they touch, and, with `kills`, `kill -9` of the Worker's workerd at random moments and a
 * restart of `wrangler dev` on the same state. At the end it checks the invariants of checks.ts.
 * Loopback only; bounded in time (`minutes` of traffic, restarts not counted) and in requests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminCall, type Json, oneChange, setUp } from "./admin.ts";
import { type CheckResult, checkAll, checkAuditAndEvents, checkUsage, type Observed } from "./checks.ts";
import { Deployment, ROOT_TOKEN, SIGNING_SECRET, soakPolicy, WEBHOOK_SECRET } from "./deployment.ts";
import type { ChangeKind, World } from "./model.ts";
import { startCountingOrigin } from "./origin.ts";
import { startReceiver } from "./receiver.ts";
import { Rng } from "./rng.ts";
import { client, now, sleep, type Traffic } from "./traffic.ts";

export interface SoakOptions {
  minutes: number;
  seed: number;
  kills: number;
  clients: number;
  keys?: number;
  owners?: number;
  /** `leases.ms` of the policy (default 1000). */
  leaseMs?: number;
  /** Most requests the clients send in all (default 1,000 a second of traffic). */
  maxRequests?: number;
  /** Longest wait at the end for events to be delivered, ms (default 90 s: two retries). */
  eventWaitMs?: number;
  /** Longest wait at the end for usage to catch up, ms (default 35 s: the 30 s write-behind). */
  usageWaitMs?: number;
  /** Share of events whose first delivery the receiver refuses (default 0.2). */
  refuseShare?: number;
  /** Keep the state directory (default: removed). */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface SoakReport {
  ok: boolean;
  results: CheckResult[];
  /** Lines describing the run: traffic, changes, kills. */
  summary: string[];
  world: World;
}

/** After a restart answers, how long failures still count as the kill's, ms. */
const SETTLE_MS = 5_000;

class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

async function get(deployment: Deployment, world: World, path: string): Promise<Json> {
  const answer = await adminCall(deployment, world, "GET", path);
  if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json;
}

async function pages(deployment: Deployment, world: World, path: string): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page: Json = await get(
      deployment,
      world,
      `${path}${separator}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}

async function readUsage(deployment: Deployment, world: World): Promise<Observed["usage"]> {
  const usage: Observed["usage"] = new Map();
  for (const key of world.keys.values()) {
    const json = await get(deployment, world, `/keys/${key.id}/usage?granularity=hour`);
    const counts: Record<string, number> = {};
    for (const item of json.items as { allowed: number; denied: Record<string, number> }[]) {
      if (item.allowed > 0) counts.valid = (counts.valid ?? 0) + item.allowed;
      for (const [code, count] of Object.entries(item.denied)) counts[code] = (counts[code] ?? 0) + count;
    }
    usage.set(key.id, counts);
  }
  return usage;
}

async function observe(
  deployment: Deployment,
  world: World,
  origin: Observed["origin"],
  receiver: { events: Map<string, Observed["events"][number]>; invalid: number },
  options: { eventWaitMs: number; usageWaitMs: number; log: (line: string) => void },
): Promise<Observed> {
  const observed: Observed = {
    usage: new Map(),
    keyCredits: new Map(),
    ownerCredits: new Map(),
    audit: [],
    events: [],
    listedEvents: [],
    invalidWebhooks: 0,
    origin,
  };
  // Usage: live in the key's object once its lease is reported (docs/consistency.md#leases).
  const usageDeadline = now() + options.usageWaitMs;
  for (;;) {
    observed.usage = await readUsage(deployment, world);
    if (checkUsage(world, observed).ok || now() > usageDeadline) break;
    await sleep(5_000);
  }
  for (const lineage of world.lineages) {
    if (!lineage.credits) continue;
    const json = await get(deployment, world, `/keys/${lineage.head.id}`);
    observed.keyCredits.set(lineage.id, json.credits?.remaining ?? null);
  }
  for (const owner of world.owners.values()) {
    if (!owner.credits) continue;
    const json = await get(deployment, world, `/owners/${owner.id}?workspaceId=${owner.workspaceId}`);
    observed.ownerCredits.set(owner.id, json.credits?.remaining ?? null);
  }
  for (const workspaceId of world.workspaces) {
    const entries = await pages(deployment, world, `/audit?workspaceId=${workspaceId}`);
    observed.audit.push(
      ...entries.map((entry: Json) => ({
        requestId: entry.requestId,
        action: entry.action,
        targetId: entry.targetId,
      })),
    );
  }
  // Events: wait for every admin event to be delivered (retries come after 5 s, then 30 s).
  const eventDeadline = now() + options.eventWaitMs;
  for (;;) {
    observed.events = [...receiver.events.values()];
    observed.invalidWebhooks = receiver.invalid;
    if (checkAuditAndEvents(world, observed).ok || now() > eventDeadline) break;
    await sleep(2_000);
  }
  for (const workspaceId of world.workspaces)
    observed.listedEvents.push(...(await pages(deployment, world, `/events?workspaceId=${workspaceId}`)));
  return observed;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0;
}

function summarise(world: World, started: number, trafficMs: number, kills: number): string[] {
  const requests = world.requests;
  const codes = new Map<string, number>();
  for (const request of requests) {
    const code = request.status === 0 ? "no answer" : (request.code ?? `${request.status} (not Portcullis)`);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const byKind = new Map<ChangeKind, number[]>();
  for (const change of world.changes) {
    if (change.span.sent < started) continue;
    byKind.set(change.kind, [...(byKind.get(change.kind) ?? []), change.span.answered - change.span.sent]);
  }
  const latencies = [...byKind.values()].flat();
  const answers = requests.map((request) => request.end - request.start);
  return [
    `requests: ${requests.length} in ${(trafficMs / 1000).toFixed(0)} s of traffic (${(requests.length / (trafficMs / 1000)).toFixed(0)}/s; p50 ${percentile(answers, 0.5).toFixed(0)} ms, p99 ${percentile(answers, 0.99).toFixed(0)} ms), ${requests.filter((r) => r.hammer).length} by hammers; ${[...codes].map(([code, count]) => `${code} ${count}`).join(", ")}`,
    `admin changes: ${latencies.length} (${[...byKind].map(([kind, list]) => `${kind} ${list.length}`).join(", ")}); answered in p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p95 ${percentile(latencies, 0.95).toFixed(0)} ms, max ${Math.max(0, ...latencies).toFixed(0)} ms`,
    `kills: ${world.kills.length} of ${kills}${world.kills.map((kill) => `; restart ${(kill.restartMs / 1000).toFixed(1)} s`).join("")}`,
    `keys: ${world.keys.size} (${world.lineages.length} created, ${world.keys.size - world.lineages.length} by rotation), owners ${world.owners.size}, workspaces ${world.workspaces.length}`,
  ];
}

export function formatResult(result: CheckResult): string[] {
  return [
    `${result.name}: ${result.ok ? "ok" : "FAIL"}, checked ${result.checked}, violations ${result.violations}, ${result.detail}`,
    ...result.samples.map((sample) => `    ${sample}`),
  ];
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const leaseMs = options.leaseMs ?? 1000;
  const durationMs = options.minutes * 60_000;
  const persist = mkdtempSync(join(tmpdir(), "portcullis-soak-"));
  const origin = await startCountingOrigin();
  const receiver = await startReceiver(WEBHOOK_SECRET, options.seed, options.refuseShare ?? 0.2);
  const cost = { read: 1, write: 2 };
  const deployment = new Deployment(persist, {
    POLICY: JSON.stringify(soakPolicy({ origin: origin.url, webhook: receiver.url, leaseMs, cost })),
    ADMIN_TOKEN: ROOT_TOKEN,
    ORIGIN_SIGNING_SECRET: SIGNING_SECRET,
    SOAK_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  const world: World = {
    seed: options.seed,
    leaseMs,
    keys: new Map(),
    lineages: [],
    owners: new Map(),
    workspaces: [],
    requests: [],
    changes: [],
    kills: [],
    cost,
  };
  try {
    log(
      `soak: seed ${options.seed}, ${options.minutes} min, ${options.clients} clients, ${options.kills} kills; state in ${persist}`,
    );
    await deployment.start(true);
    await setUp(deployment, world, new Rng(options.seed, "setup"), {
      owners: options.owners ?? 10,
      keys: options.keys ?? 48,
    });
    log(`soak: ${world.keys.size} keys, ${world.owners.size} owners ready on ${deployment.url}`);

    const traffic: Traffic = {
      world,
      deployment,
      sent: 0,
      maxRequests: options.maxRequests ?? Math.ceil(durationMs),
      stopped: false,
    };
    const started = now();
    let downtime = 0;
    const trafficTime = () => now() - started - downtime;
    const mutex = new Mutex();
    const killRng = new Rng(options.seed, "kills");
    const killOffsets = Array.from(
      { length: options.kills },
      () => durationMs * (0.15 + 0.7 * killRng.next()),
    ).sort((a, b) => a - b);
    const clients = Array.from({ length: options.clients }, (_, i) =>
      client(traffic, new Rng(options.seed, `client-${i}`)),
    );
    const admin = (async () => {
      const rng = new Rng(options.seed, "admin");
      const done = new Map<ChangeKind, number>();
      const limits = {
        maxRevokes: Math.max(2, Math.floor(world.lineages.length / 5)),
        maxOwnerRevokes: Math.max(1, Math.floor(options.minutes / 3)),
      };
      while (!traffic.stopped) {
        await sleep(rng.int(600, 2000));
        if (traffic.stopped) break;
        if (!(await mutex.run(() => oneChange(traffic, rng, limits, done)))) break;
      }
    })();
    const killer = (async () => {
      for (const [index, offset] of killOffsets.entries()) {
        while (!traffic.stopped && trafficTime() < offset) await sleep(100);
        if (traffic.stopped) return;
        await mutex.run(async () => {
          const at = now();
          const pid = deployment.kill();
          log(`soak: kill -9 ${pid} (workerd) at ${(trafficTime() / 1000).toFixed(1)} s of traffic`);
          await deployment.stop();
          await deployment.start(false);
          const ready = now();
          world.kills.push({ at, end: ready + SETTLE_MS, restartMs: ready - at });
          downtime += ready - at;
          log(
            `soak: restart ${index + 1} answered after ${((ready - at) / 1000).toFixed(1)} s on ${deployment.url}`,
          );
        });
      }
    })();
    let reported = 0;
    while (trafficTime() < durationMs && traffic.sent < traffic.maxRequests) {
      await sleep(250);
      if (trafficTime() - reported >= 30_000) {
        reported = trafficTime();
        log(
          `soak: ${(reported / 1000).toFixed(0)} s, ${world.requests.length} requests, ${world.changes.length} changes`,
        );
      }
    }
    const trafficMs = trafficTime();
    traffic.stopped = true;
    await Promise.all([...clients, admin, killer]);
    log(
      "soak: traffic stopped; waiting for leases to be reported, then reading usage, balances, audit, events",
    );
    await sleep(leaseMs + 1_500);
    const observed = await observe(deployment, world, origin.hits, receiver, {
      eventWaitMs: options.eventWaitMs ?? 90_000,
      usageWaitMs: options.usageWaitMs ?? 35_000,
      log,
    });
    const results = checkAll(world, observed);
    return {
      ok: results.every((r) => r.ok),
      results,
      summary: summarise(world, started, trafficMs, options.kills),
      world,
    };
  } finally {
    await deployment.stop().catch(() => undefined);
    await origin.close();
    await receiver.close();
    if (!options.keep) rmSync(persist, { recursive: true, force: true });
  }
}
