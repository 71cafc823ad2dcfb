/**
 * What the benchmark runs against, all on this machine: the test origin, the bare baseline
 * Worker, Portcullis and the peer stack, each under `wrangler dev` (workerd), and the keys each
 * scenario uses.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Origin } from "../test/e2e/origin.ts";
import { type DevServer, startWranglerDev } from "../test/e2e/wrangler-dev.ts";
import { startBenchOrigin } from "./origin.ts";

export const ADMIN_TOKEN = "bench-admin-token";
const SIGNING_SECRET = "bench-origin-signing-secret";
/** Requests per minute per key on both stacks' throughput keys: never reached. */
export const HIGH_LIMIT = 1_000_000;
/** A key of the right shape and checksum that no record has (the abuse path of unknown keys). */
export const UNKNOWN_KEY = `bk_${"U".repeat(32)}_${crc32("U".repeat(32)).toString(16).padStart(8, "0")}`;
/** A bearer that is not a key of any shape. */
export const MALFORMED_KEY = "bk_not-a-well-formed-key";

/** A Portcullis variant beside the main one, with its own storage and warm key. */
export interface Variant {
  server: DevServer;
  warm: string;
}

export interface Stack {
  origin: Origin;
  empty: DevServer;
  baseline: DevServer;
  portcullis: DevServer;
  /** Leasing off (`leases.ms = 0`): every request asks the key's object. */
  unleased: Variant;
  /** Every allowed request logged (`logging.allowedSampleRate: 1`); the default logs 1%. */
  logged: Variant;
  /** Each object call delayed 25 ms each way: a key whose object lives in another location. */
  far: Variant;
  farUnleased: Variant;
  peer: DevServer;
  keys: {
    warm: string;
    /** A key whose owner has limits: its owner's object counts each request (no lease). */
    owned: string;
    limited: string;
    unknown: string;
    malformed: string;
    peer: string;
    cold: string[];
  };
  stop(): Promise<void>;
}

/** The far object's added latency, each way, ms. */
export const FAR_OBJECT_MS = 25;

/** What a Portcullis variant changes from the default policy and bindings. */
export interface VariantOptions {
  leaseMs?: number;
  objectDelayMs?: number;
  /** ms added before and after each D1 query of the verify path: a primary database far away. */
  d1DelayMs?: number;
  /** The same for queries in a D1 session (a read replica); unset: `d1DelayMs` (no replication). */
  d1ReplicaDelayMs?: number;
  /** `logging.allowedSampleRate`: share of allowed requests logged (default 0.01, one in 100). */
  sampleRate?: number;
}

function policy(origin: string, options: VariantOptions) {
  const { leaseMs, sampleRate } = options;
  return {
    origin,
    keyTypes: { bench: { prefix: "bk", defaultPermissions: ["api:use"] } },
    routes: [{ path: "/*", permissions: ["api:use"] }],
    ...(leaseMs === undefined ? {} : { leases: { ms: leaseMs } }),
    ...(sampleRate === undefined ? {} : { logging: { allowedSampleRate: sampleRate } }),
  };
}

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

export async function adminCall(
  portcullis: string,
  path: string,
  body: unknown,
): Promise<{ id: string; key: string }> {
  const response = await fetch(`${portcullis}/_portcullis/admin/v1${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; key: string };
}

/** Sets the owner's shared limits (docs/consistency.md#owners). */
async function putOwner(
  portcullis: string,
  workspaceId: string,
  ownerId: string,
  body: unknown,
): Promise<void> {
  const response = await fetch(
    `${portcullis}/_portcullis/admin/v1/owners/${ownerId}?workspaceId=${workspaceId}`,
    {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    },
  );
  if (response.status !== 200)
    throw new Error(`owner ${ownerId}: ${response.status} ${await response.text()}`);
}

export function startPortcullis(
  origin: string,
  persist: string,
  options: VariantOptions = {},
): Promise<DevServer> {
  const delay: Record<string, string> = {
    ...(options.objectDelayMs ? { BENCH_OBJECT_DELAY_MS: String(options.objectDelayMs) } : {}),
    ...(options.d1DelayMs ? { BENCH_D1_DELAY_MS: String(options.d1DelayMs) } : {}),
    ...(options.d1ReplicaDelayMs === undefined
      ? {}
      : { BENCH_D1_REPLICA_DELAY_MS: String(options.d1ReplicaDelayMs) }),
  };
  return startWranglerDev({
    persist,
    vars: {
      POLICY: JSON.stringify(policy(origin, options)),
      ADMIN_TOKEN,
      ORIGIN_SIGNING_SECRET: SIGNING_SECRET,
      ...delay,
    },
  });
}

async function startVariant(origin: string, options: VariantOptions, persists: string[]): Promise<Variant> {
  const persist = mkdtempSync(join(tmpdir(), "portcullis-bench-"));
  persists.push(persist);
  const server = await startPortcullis(origin, persist, options);
  const workspace = await adminCall(server.url, "/workspaces", { name: "bench" });
  const [warm] = await createKeys(server.url, workspace.id, 1, { limits: { minute: HIGH_LIMIT } });
  return { server, warm: warm as string };
}

export function startPeer(origin: string, limit: number, keys: string[]): Promise<DevServer> {
  return startWranglerDev({
    config: "bench/peer/wrangler.toml",
    vars: { ORIGIN: origin, LIMIT: String(limit) },
    seed: keys.map((key) => `INSERT INTO api_keys (hash) VALUES ('${sha256(key)}');`).join(" "),
  });
}

/** Creates keys in parallel batches. */
export async function createKeys(
  portcullis: string,
  workspaceId: string,
  count: number,
  fields: object = {},
): Promise<string[]> {
  const keys: string[] = [];
  for (let start = 0; start < count; start += 32) {
    const batch = Array.from({ length: Math.min(32, count - start) }, () =>
      adminCall(portcullis, "/keys", { workspaceId, type: "bench", ...fields }),
    );
    for (const created of await Promise.all(batch)) keys.push(created.key);
  }
  return keys;
}

export async function startStack(coldKeys: number): Promise<Stack> {
  const origin = await startBenchOrigin();
  const empty = await startWranglerDev({ config: "bench/empty/wrangler.toml", migrate: false, vars: {} });
  const persists: string[] = [];
  const unleased = await startVariant(origin.url, { leaseMs: 0 }, persists);
  const logged = await startVariant(origin.url, { sampleRate: 1 }, persists);
  const far = await startVariant(origin.url, { objectDelayMs: FAR_OBJECT_MS }, persists);
  const farUnleased = await startVariant(origin.url, { leaseMs: 0, objectDelayMs: FAR_OBJECT_MS }, persists);
  const baseline = await startWranglerDev({
    config: "bench/baseline/wrangler.toml",
    migrate: false,
    vars: { ORIGIN: origin.url },
  });
  const persist = mkdtempSync(join(tmpdir(), "portcullis-bench-"));
  let portcullis = await startPortcullis(origin.url, persist);
  const workspace = await adminCall(portcullis.url, "/workspaces", { name: "bench" });
  const [warm] = await createKeys(portcullis.url, workspace.id, 1, { limits: { minute: HIGH_LIMIT } });
  const [owned] = await createKeys(portcullis.url, workspace.id, 1, { ownerId: "bench-owner" });
  await putOwner(portcullis.url, workspace.id, "bench-owner", { limits: { minute: HIGH_LIMIT } });
  const [limited] = await createKeys(portcullis.url, workspace.id, 1, { limits: { hour: 1 } });
  const cold = await createKeys(portcullis.url, workspace.id, coldKeys, { limits: { minute: HIGH_LIMIT } });
  // A restart empties every isolate cache and unloads every Durable Object: the cold keys'
  // first requests then pay the D1 read and the object's start, as in production.
  await portcullis.stop();
  portcullis = await startPortcullis(origin.url, persist);
  const peerKey = "peer_bench_key_0123456789";
  const peer = await startPeer(origin.url, HIGH_LIMIT, [peerKey]);
  const servers = [
    peer,
    portcullis,
    baseline,
    empty,
    unleased.server,
    logged.server,
    far.server,
    farUnleased.server,
  ];
  return {
    origin,
    empty,
    baseline,
    portcullis,
    unleased,
    logged,
    far,
    farUnleased,
    peer,
    keys: {
      warm: warm as string,
      owned: owned as string,
      limited: limited as string,
      unknown: UNKNOWN_KEY,
      malformed: MALFORMED_KEY,
      peer: peerKey,
      cold,
    },
    stop: async () => {
      for (const server of servers) await server.stop();
      await origin.close();
      for (const path of [persist, ...persists]) rmSync(path, { recursive: true, force: true });
    },
  };
}
