/**
 * `npm run bench:leases`: the lease accounting of src/limits/lease.ts simulated for 1, 10 and
 * 300 isolates serving one key, with the same rules as the object and the isolates (one lease
 * per isolate, one ask at a time, report on renewal and at the lease's end). Prints a Markdown
 * table: requests per object call, worst-case under-admission and admin-change wait.
 *
 * The simulation has no network: an object call answers at once. Requests arrive evenly spread
 * over the isolates at RATE per second in total for SECONDS.
 */
import "../scripts/resolve-ts.ts";
import type { Budget, LeasePeriods } from "../src/limits/lease.ts";
import type { Window, WindowStates } from "../src/limits/windows.ts";

const { giveBack, leaseBudget: grantLease, leasePeriods, spend } = await import("../src/limits/lease.ts");
const { meter } = await import("../src/limits/meter.ts");

const LEASE_MS = 1000;
const RATE = 3000;
const SECONDS = 60;
const START = Date.UTC(2026, 10, 23, 1);

interface Lease {
  id: number;
  budget: Budget;
  periods: LeasePeriods;
  endsAt: number;
}

interface Held {
  id: number;
  left: Budget;
  endsAt: number;
  seen: number;
  since: number;
}

interface Outcome {
  requests: number;
  calls: number;
  allowed: number;
  /** Largest budget held by isolates while the object refused a request, in requests. */
  strandedAtRefusal: number;
  /** Admin-change waits sampled once per simulated 10 ms, ms. */
  waits: number[];
}

function simulate(isolates: number, limits: [Window, number][]): Outcome {
  let windows: WindowStates = {};
  const credits = null;
  const leases = new Map<number, Lease>();
  const held = new Map<number, Held>();
  let nextId = 1;
  const outcome: Outcome = { requests: 0, calls: 0, allowed: 0, strandedAtRefusal: 0, waits: [] };

  const settle = (isolate: number, report: Held | undefined, now: number) => {
    const lease = leases.get(isolate);
    if (!report || !lease || lease.id !== report.id) return;
    leases.delete(isolate);
    windows = giveBack(limits, windows, credits, lease.periods, report.left, now).windows;
  };

  const total = RATE * SECONDS;
  let nextSample = START;
  for (let i = 0; i < total; i++) {
    const now = START + Math.floor((i * 1000) / RATE);
    const isolate = i % isolates;
    // Leases that ended are reported by their isolates at their end.
    for (const [id, mine] of held) {
      if (mine.endsAt <= now) {
        settle(id, mine, mine.endsAt);
        held.delete(id);
      }
    }
    while (nextSample <= now) {
      // An admin change made now by an isolate holding no lease waits for the longest lease out.
      let wait = 0;
      for (const lease of leases.values()) wait = Math.max(wait, lease.endsAt - nextSample, 0);
      outcome.waits.push(wait);
      nextSample += 10;
    }
    outcome.requests += 1;
    const mine = held.get(isolate);
    if (mine) {
      mine.seen += 1;
      const left = spend(mine.left, 1);
      if (left && now < mine.endsAt) {
        mine.left = left;
        outcome.allowed += 1;
        continue;
      }
    }
    outcome.calls += 1;
    settle(isolate, mine, now);
    held.delete(isolate);
    const metered = meter({ limits, windows, credits, cost: 1, now, take: true });
    if (metered.code !== "valid") {
      let stranded = 0;
      for (const other of held.values()) stranded += other.left.requests ?? 0;
      outcome.strandedAtRefusal = Math.max(outcome.strandedAtRefusal, stranded);
      continue;
    }
    outcome.allowed += 1;
    windows = metered.nextWindows;
    const span = Math.max(now - (mine?.since ?? now), 50);
    const grant = grantLease({
      limits,
      windows,
      credits,
      now,
      maxMs: LEASE_MS,
      expiresAt: null,
      wantedRequests: Math.ceil((2 * Math.max(mine?.seen ?? 1, 1) * LEASE_MS) / span),
      cost: 1,
      otherHolders: [...leases.values()].filter((lease) => lease.endsAt > now).length,
      creditsLowThreshold: null,
    });
    if (!grant) continue;
    const id = nextId++;
    leases.set(isolate, {
      id,
      budget: grant.budget,
      periods: leasePeriods(limits, credits, now),
      endsAt: now + grant.ms,
    });
    windows = grant.windows;
    held.set(isolate, { id, left: { ...grant.budget }, endsAt: now + grant.ms, seen: 0, since: now });
  }
  return outcome;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const MINUTE_LIMIT = 300_000;
const rows = [1, 10, 300].map((isolates) => {
  const open = simulate(isolates, []);
  const limited = simulate(isolates, [["minute", MINUTE_LIMIT]]);
  const quota = simulate(isolates, [["day", 50_000]]);
  return [
    isolates,
    (open.requests / open.calls).toFixed(0),
    (limited.requests / limited.calls).toFixed(0),
    `${quota.allowed.toLocaleString("en")} of 50,000 (${quota.strandedAtRefusal} held elsewhere at worst)`,
    `${percentile(open.waits, 50)} / ${percentile(open.waits, 100)}`,
  ];
});

console.log(
  `Simulated: one key, ${RATE.toLocaleString("en")} requests a second spread evenly over the isolates for ${SECONDS} s, leases.ms = ${LEASE_MS}.\n`,
);
console.log(
  "| isolates | requests per object call, no limit | requests per object call, 300,000/minute | day quota 50,000 reached with 180,000 requests | admin-change wait p50 / max, ms |",
);
console.log("| ---: | ---: | ---: | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
