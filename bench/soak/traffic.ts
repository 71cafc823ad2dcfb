/**
 * The soak's clients: each sends one request at a time, continuously, with a key its own seeded
 * generator picks, and records what it saw (request id, key, start and end, status, code). The
 * hammer does the same on the keys an admin change is about to touch.
 */
import type { Deployment } from "./deployment.ts";
import type { Key, Request, World } from "./model.ts";
import type { Rng } from "./rng.ts";

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Longest a client waits for one answer, ms. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface Traffic {
  world: World;
  deployment: Deployment;
  /** Requests sent so far, and the most the run may send. */
  sent: number;
  maxRequests: number;
  stopped: boolean;
}

export async function send(traffic: Traffic, key: Key, write: boolean, hammer: boolean): Promise<void> {
  traffic.sent += 1;
  const id = `soak-${traffic.world.seed}-${traffic.sent}`;
  const cost = write ? traffic.world.cost.write : traffic.world.cost.read;
  const start = now();
  const record: Request = {
    id,
    keyId: key.id,
    write,
    cost,
    start,
    end: start,
    status: 0,
    code: null,
    allowed: false,
    credits: null,
    hammer,
  };
  try {
    const response = await fetch(`${traffic.deployment.url}/api/products`, {
      method: write ? "POST" : "GET",
      headers: { "X-API-Key": key.secret, "X-Request-Id": id },
      body: write ? "{}" : undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    record.status = response.status;
    record.allowed = response.status === 200 && response.headers.get("x-soak-origin") === "1";
    record.code = record.allowed ? "valid" : response.headers.get("x-portcullis-code");
    const credits = response.headers.get("x-credits-remaining");
    record.credits = credits === null ? null : Number(credits);
  } catch {
    record.status = 0;
  }
  record.end = now();
  traffic.world.requests.push(record);
}

/** Whether a client should go on: the run is on and the request budget not spent. */
function going(traffic: Traffic): boolean {
  return !traffic.stopped && traffic.sent < traffic.maxRequests;
}

/** Keys a client may pick, weighted: live keys most, keys in a grace period often, dead keys rarely. */
function pickKey(world: World, rng: Rng): Key {
  const keys = [...world.keys.values()];
  const at = now();
  const weights = keys.map((key) => {
    if (key.revokedAt !== null || (key.expiresAt !== null && at > key.expiresAt)) return 1;
    return (key.successor === null ? 10 : 6) * key.weight;
  });
  return keys[rng.weighted(weights)] as Key;
}

export async function client(traffic: Traffic, rng: Rng): Promise<void> {
  while (going(traffic)) {
    if (!traffic.deployment.up) {
      await sleep(50);
      continue;
    }
    await send(traffic, pickKey(traffic.world, rng), rng.chance(0.25), false);
  }
}

/** Loops on `keys` (which may grow: a rotation adds the successor) until `until.done`. */
export async function hammer(
  traffic: Traffic,
  rng: Rng,
  keys: Key[],
  writeShare: number,
  until: { done: boolean },
): Promise<void> {
  while (!until.done && going(traffic)) {
    if (!traffic.deployment.up) {
      await sleep(50);
      continue;
    }
    await send(traffic, rng.pick(keys), rng.chance(writeShare), true);
  }
}
