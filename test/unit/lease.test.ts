/**
 * Lease accounting (src/limits/lease.ts) over many simulated isolates: random requests,
 * renewals, returns, leases that run out unreported, time passing and admin changes. Whatever
 * the interleaving, no day's quota and no balance is ever exceeded; with one isolate that always
 * reports, the quota admits exactly its limit.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type KeyLeaseRecord,
  LeaseBook,
  type OwnerLeaseRecord,
  type OwnLeaseRecord,
} from "../../src/key-object/lease-book";
import type { CreditState } from "../../src/limits/credits";
import { creditState } from "../../src/limits/credits";
import {
  type Budget,
  type CountedKey,
  copyVersion,
  giveBack,
  LEASE_MIN_ROOM,
  type LeasePeriods,
  leaseBudget,
  leaseBudgetAcross,
  leasePeriods,
  type OwnerCopy,
  ownerCountsFrom,
  spend,
  takeAnswer,
} from "../../src/limits/lease";
import { meter, meterSets } from "../../src/limits/meter";
import { calendarPeriod, type Window, type WindowStates } from "../../src/limits/windows";

const LEASE_MS = 1000;
const DAY_START = Date.UTC(2026, 10, 23);

interface Lease {
  id: number;
  budget: Budget;
  periods: LeasePeriods;
  /** By the object's clock. */
  endsAt: number;
}

interface Held {
  id: number;
  left: Budget;
  /** By the isolate's clock: from before it asked. */
  endsAt: number;
}

/** Storage that keeps nothing: the simulated object never restarts. */
const NO_STORAGE = {
  put: () => undefined,
  delete: () => undefined,
  list: async () => new Map(),
} as unknown as DurableObjectStorage;

/**
 * The object's side, as KeyGate runs it, with its real `LeaseBook`: settle (a report gives back
 * also after its lease's end, within the report grace), decide and count, lend.
 */
class SimObject {
  windows: WindowStates = {};
  credits: CreditState | null;
  readonly book: LeaseBook<OwnLeaseRecord>;
  /** Lease ids by holder, for the isolates' reports. */
  nextId = 1;
  quota = 0;
  /** Reports that gave budget back after their lease's end (the grace path). */
  lateGiveBacks = 0;

  constructor(
    public limits: [Window, number][],
    credits: number | null,
    private now: number,
  ) {
    this.credits = credits === null ? null : creditState({ remaining: credits, refill: null }, now);
    this.book = new LeaseBook(
      NO_STORAGE,
      () => this.now,
      (lease): lease is OwnLeaseRecord => lease.kind === "own",
    );
  }

  settle(isolate: number, report: { id: number; unused: Budget } | null, now: number): void {
    this.now = now;
    if (!report) return;
    this.book.prune(now);
    const lease = this.book.end(String(isolate), String(report.id));
    if (!lease) return;
    if (lease.endsAt <= now) this.lateGiveBacks += 1;
    const back = giveBack(this.limits, this.windows, this.credits, lease.periods, report.unused, now);
    this.windows = back.windows;
    this.credits = back.credits;
  }

  /** One request decided here, maybe with a lease for the isolate. */
  authorize(
    isolate: number,
    cost: number,
    wanted: number,
    now: number,
  ): { allowed: boolean; lease: Lease | null } {
    this.now = now;
    const holder = String(isolate);
    const metered = meter({
      limits: this.limits,
      windows: this.windows,
      credits: this.credits,
      cost,
      now,
      take: true,
    });
    if (metered.code !== "valid") return { allowed: false, lease: null };
    this.windows = metered.nextWindows;
    this.credits = metered.credits;
    if (this.book.holds(holder, now)) return { allowed: true, lease: null };
    const periods = leasePeriods(this.limits, this.credits, now);
    const grant = leaseBudget({
      limits: this.limits,
      windows: this.windows,
      credits: this.credits,
      now,
      maxMs: LEASE_MS,
      expiresAt: null,
      wantedRequests: wanted,
      cost,
      otherHolders: this.book.othersThan(holder, now),
      creditsLowThreshold: null,
    });
    if (!grant) return { allowed: true, lease: null };
    this.windows = grant.windows;
    this.credits = grant.credits;
    const lease = { id: this.nextId++, budget: grant.budget, periods, endsAt: now + grant.ms };
    this.book.prune(now);
    this.book.lend(holder, {
      kind: "own",
      id: String(lease.id),
      budget: lease.budget,
      periods,
      ms: grant.ms,
      endsAt: lease.endsAt,
    });
    return { allowed: true, lease };
  }
}

type Op =
  | { kind: "request"; isolate: number; cost: number }
  | { kind: "tick"; ms: number }
  | { kind: "vanish"; isolate: number }
  | { kind: "lowerQuota"; by: number }
  | { kind: "setCredits"; amount: number };

function run(ops: Op[], isolates: number, quota: number, credits: number | null) {
  let now = DAY_START + 3_600_000;
  const object = new SimObject([["day", quota]], credits, now);
  object.quota = quota;
  const held: (Held | null)[] = Array.from({ length: isolates }, () => null);
  let allowed = 0;
  let spent = 0;
  let creditsGranted = credits ?? 0;
  for (const op of ops) {
    if (op.kind === "tick") now += op.ms;
    else if (op.kind === "vanish") held[op.isolate] = null;
    else if (op.kind === "lowerQuota") {
      object.quota = Math.max(0, object.quota - op.by);
      object.limits = [["day", object.quota]];
    } else if (op.kind === "setCredits") {
      if (object.credits) {
        object.credits = {
          ...object.credits,
          remaining: op.amount,
          generation: (object.credits.generation ?? 0) + 1,
        };
        // The balance restarts: count what is spent from here against the new amount.
        creditsGranted = op.amount;
        spent = 0;
      }
    } else {
      const mine = held[op.isolate];
      if (mine && now < mine.endsAt) {
        const left = spend(mine.left, op.cost);
        if (left) {
          mine.left = left;
          allowed += 1;
          spent += op.cost;
          continue;
        }
      }
      const report = mine ? { id: mine.id, unused: mine.left } : null;
      held[op.isolate] = null;
      const sentAt = now;
      object.settle(op.isolate, report, now);
      const answer = object.authorize(op.isolate, op.cost, 40, now);
      if (answer.allowed) {
        allowed += 1;
        spent += op.cost;
      }
      if (answer.lease) {
        held[op.isolate] = {
          id: answer.lease.id,
          left: { ...answer.lease.budget },
          endsAt: sentAt + (answer.lease.endsAt - now),
        };
      }
    }
    if (credits !== null) expect(spent).toBeLessThanOrEqual(creditsGranted);
  }
  return { allowed, object };
}

const opArbitrary = (isolates: number) =>
  fc.oneof(
    {
      weight: 20,
      arbitrary: fc.record({
        kind: fc.constant("request" as const),
        isolate: fc.nat(isolates - 1),
        cost: fc.integer({ min: 0, max: 3 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 1500 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("vanish" as const), isolate: fc.nat(isolates - 1) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("lowerQuota" as const), by: fc.integer({ min: 1, max: 50 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("setCredits" as const),
        amount: fc.integer({ min: 0, max: 300 }),
      }),
    },
  );

describe("lease accounting", () => {
  it("never admits more than a day's quota, however many isolates hold leases", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 400 }),
        fc.array(opArbitrary(300), { maxLength: 1500 }),
        (isolates, quota, raw) => {
          const ops = raw.filter((op) => !("isolate" in op) || op.isolate < isolates);
          const { allowed, object } = run(ops, isolates, quota, null);
          const lowered = object.quota;
          // Only requests counted before the quota was lowered may stand above the new limit.
          expect(allowed).toBeLessThanOrEqual(Math.max(quota, lowered));
          const counted = object.windows.day?.count ?? 0;
          expect(allowed).toBeLessThanOrEqual(counted);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never spends more credits than the balance holds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 500 }),
        fc.array(opArbitrary(50), { maxLength: 1500 }),
        (isolates, credits, raw) => {
          const ops = raw.filter((op) => !("isolate" in op) || op.isolate < isolates);
          const { object } = run(ops, isolates, 100_000, credits);
          expect(object.credits?.remaining ?? 0).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("with one isolate that always reports, admits exactly the quota", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 3000 }), (quota, requests) => {
        const ops: Op[] = Array.from({ length: requests }, () => ({ kind: "request", isolate: 0, cost: 1 }));
        expect(run(ops, 1, quota, null).allowed).toBe(Math.min(quota, requests));
      }),
      { numRuns: 200 },
    );
  });

  it("with one isolate that reports only after each lease's end, admits exactly the quota (the grace)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 600 }), (quota, requests) => {
        // Each request comes after the isolate's lease ended, so its report is a late one.
        const ops: Op[] = Array.from({ length: requests }, (): Op[] => [
          { kind: "request", isolate: 0, cost: 1 },
          { kind: "tick", ms: LEASE_MS + 100 },
        ]).flat();
        const { allowed, object } = run(ops, 1, quota, null);
        expect(allowed).toBe(Math.min(quota, requests));
        if (quota >= 4 * LEASE_MIN_ROOM && requests > 2) expect(object.lateGiveBacks).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it("leases no budget from a small or nearly spent window, nor across the last unit", () => {
    const now = DAY_START;
    const input = {
      windows: {},
      credits: null,
      now,
      maxMs: LEASE_MS,
      expiresAt: null,
      wantedRequests: 1000,
      cost: 1,
      otherHolders: 0,
      creditsLowThreshold: null,
    };
    expect(leaseBudget({ ...input, limits: [["minute", LEASE_MIN_ROOM - 1]] })).toBeNull();
    expect(leaseBudget({ ...input, limits: [["day", LEASE_MIN_ROOM]] })).toBeNull();
    const grant = leaseBudget({ ...input, limits: [["day", 1000]] });
    expect(grant?.budget.requests).toBe(499);
    const crowded = leaseBudget({ ...input, limits: [["day", 1000]], otherHolders: 4 });
    expect(crowded?.budget.requests).toBe(99);
  });

  it("sizes a budget from each window's exact room, and leases a key without limits without a count", () => {
    const input = {
      windows: {},
      credits: null,
      now: DAY_START,
      maxMs: LEASE_MS,
      expiresAt: null,
      wantedRequests: 100_000,
      cost: 1,
      otherHolders: 0,
      creditsLowThreshold: null,
    };
    expect(leaseBudget({ ...input, limits: [["minute", 1000]] })?.budget.requests).toBe(500);
    expect(leaseBudget({ ...input, limits: [["minute", LEASE_MIN_ROOM]] })?.budget.requests).toBe(
      LEASE_MIN_ROOM / 2,
    );
    expect(leaseBudget({ ...input, limits: [] })?.budget).toEqual({ requests: null, credits: null });
    const balance = creditState({ remaining: 41, refill: null }, DAY_START);
    // 40 above zero, half of it leased: exactly one request of cost 20.
    expect(leaseBudget({ ...input, limits: [], credits: balance, cost: 20 })?.budget.credits).toBe(20);
  });

  it("gives unused requests back to a GCRA window by moving its clock back", () => {
    const now = DAY_START;
    const periods = leasePeriods([["minute", 60]], null, now);
    const windows = { minute: { tat: now + 10_000 } };
    const back = giveBack([["minute", 60]], windows, null, periods, { requests: 5, credits: null }, now);
    expect(back.windows.minute?.tat).toBe(now + 5_000);
  });

  it("spends a held budget down to its last request and credit", () => {
    expect(spend({ requests: 1, credits: 3 }, 3)).toEqual({ requests: 0, credits: 0 });
    expect(spend({ requests: 0, credits: 3 }, 1)).toBeNull();
    expect(spend({ requests: null, credits: 2 }, 3)).toBeNull();
    expect(spend({ requests: null, credits: null }, 5)).toEqual({ requests: null, credits: null });
  });

  it("ends a lease at the key's expiry and at the window's end", () => {
    const now = DAY_START + 86_400_000 - 300;
    const base = {
      windows: {},
      credits: null,
      now,
      maxMs: LEASE_MS,
      wantedRequests: 10,
      cost: 1,
      otherHolders: 0,
      creditsLowThreshold: null,
    };
    expect(leaseBudget({ ...base, limits: [["day", 1000]], expiresAt: null })?.ms).toBe(300);
    expect(leaseBudget({ ...base, limits: [], expiresAt: now + 120 })?.ms).toBe(120);
    expect(leaseBudget({ ...base, limits: [], expiresAt: now + 10 })).toBeNull();
    // A rolling window: at most a tenth of it, so its head start stays small.
    expect(leaseBudget({ ...base, limits: [["second", 1000]], expiresAt: null })?.ms).toBe(100);
  });

  it("keeps the credit balance above the low threshold and above zero", () => {
    const now = DAY_START;
    const input = {
      limits: [] as [Window, number][],
      windows: {},
      now,
      maxMs: LEASE_MS,
      expiresAt: null,
      wantedRequests: 10_000,
      cost: 1,
      otherHolders: 0,
    };
    const balance = creditState({ remaining: 100, refill: null }, now);
    const grant = leaseBudget({ ...input, credits: balance, creditsLowThreshold: 40 });
    // 100 - 41 = 59 above the threshold, half of it leased.
    expect(grant?.budget.credits).toBe(29);
    expect(grant?.credits?.remaining).toBe(71);
    expect(
      leaseBudget({ ...input, credits: { ...balance, remaining: 50 }, creditsLowThreshold: 40 }),
    ).toBeNull();
    expect(
      leaseBudget({ ...input, credits: { ...balance, remaining: 30 }, creditsLowThreshold: 40 })?.budget
        .credits,
    ).toBe(14);
  });

  it("leases across a key's windows and its owner's only what both can spare", () => {
    const window = fc.constantFrom<Window>("second", "minute", "hour", "day", "month");
    const set = fc.record({
      limits: fc.array(fc.tuple(window, fc.integer({ min: 1, max: 5000 })), { maxLength: 3 }),
      used: fc.integer({ min: 0, max: 5000 }),
    });
    fc.assert(
      fc.property(set, set, fc.integer({ min: 1, max: 20_000 }), (key, owner, wanted) => {
        const now = DAY_START + 3_600_000;
        const states = [key, owner].map(({ limits, used }) => {
          const unique = [...new Map(limits).entries()];
          const windows: WindowStates = {};
          for (const [name, limit] of unique) {
            const spent = Math.min(used, limit);
            if (name === "day" || name === "month")
              windows[name] = { period: calendarPeriod(name, now).start, count: spent };
            else
              windows[name] = {
                tat: now + (spent * { second: 1_000, minute: 60_000, hour: 3_600_000 }[name]) / limit,
              };
          }
          return { limits: unique, windows };
        });
        const grant = leaseBudgetAcross({
          sets: states,
          credits: null,
          now,
          maxMs: LEASE_MS,
          expiresAt: null,
          wantedRequests: wanted,
          cost: 1,
          otherHolders: 0,
          creditsLowThreshold: null,
        });
        if (!grant || grant.budget.requests === null) return;
        // Every window of both sets admits the whole budget, and keeps a quota's last unit.
        states.forEach((state, index) => {
          const after = meter({
            limits: state.limits,
            windows: grant.windows[index] ?? {},
            credits: null,
            cost: 0,
            now,
            take: false,
          });
          for (const status of after.windows) {
            expect(status.remaining).toBeGreaterThanOrEqual(
              status.window === "day" || status.window === "month" ? 1 : 0,
            );
          }
        });
        expect(grant.budget.requests).toBeLessThanOrEqual(wanted);
      }),
      { numRuns: 300 },
    );
  });

  it("gives nothing back to a balance set or a limit changed since the grant", () => {
    const now = DAY_START;
    const credits = creditState({ remaining: 100, refill: null }, now);
    const periods = leasePeriods([["day", 100]], credits, now);
    const unused = { requests: 5, credits: 5 };
    const windows = { day: { period: DAY_START, count: 50 } };
    const same = giveBack([["day", 100]], windows, credits, periods, unused, now);
    expect(same.windows.day?.count).toBe(45);
    expect(same.credits?.remaining).toBe(105);
    const changed = giveBack([["day", 80]], windows, { ...credits, generation: 1 }, periods, unused, now);
    expect(changed.windows.day?.count).toBe(50);
    expect(changed.credits?.remaining).toBe(100);
  });
});

/**
 * A key counted by its owner's object (OwnerGate) and the key's own object (KeyGate), as they
 * run it: the key sends its copy of its windows with each request, the owner counts from
 * `ownerCountsFrom`, grants across both sets, gives a lease's unused budget back at its report,
 * and the key takes each answer with `takeAnswer`.
 */
const OWNER = "ws/owner";
class SimOwned {
  counted: CountedKey | undefined;
  ownerWindows: WindowStates = {};
  lease: { id: number; budget: Budget; key: LeasePeriods; owner: LeasePeriods } | null = null;
  nextId = 1;
  /** The key object's side. */
  keyWindows: WindowStates = {};
  copy: OwnerCopy | null = null;

  constructor(
    public keyLimits: [Window, number][],
    public ownerLimits: [Window, number][],
  ) {}

  /** What the key's object sends. */
  ask() {
    return { windows: this.keyWindows, version: copyVersion(this.copy, OWNER, this.keyWindows) };
  }

  private settle(report: { id: number; unused: Budget }, now: number) {
    const lease = this.lease;
    if (!lease || lease.id !== report.id) return;
    this.lease = null;
    const key = giveBack(this.keyLimits, this.counted?.windows ?? {}, null, lease.key, report.unused, now);
    const owner = giveBack(this.ownerLimits, this.ownerWindows, null, lease.owner, report.unused, now);
    this.counted = { windows: key.windows, version: (this.counted?.version ?? 0) + 1 };
    this.ownerWindows = owner.windows;
  }

  /** The owner's object: one request, with the report of the isolate's last lease and an ask for one. */
  meter(
    copy: { windows: WindowStates; version: number | null },
    report: { id: number; unused: Budget } | null,
    wanted: number,
    now: number,
  ) {
    if (report) this.settle(report, now);
    const from = ownerCountsFrom(copy, this.counted);
    const metered = meterSets({
      sets: [
        { limits: this.keyLimits, windows: from },
        { limits: this.ownerLimits, windows: this.ownerWindows, owner: true },
      ],
      credits: null,
      cost: 1,
      now,
      take: true,
    });
    if (metered.code !== "valid")
      return { allowed: false, lease: null, answer: { windows: from, version: null } };
    let [key = from, owner = this.ownerWindows] = metered.nextWindows;
    let lease: { id: number; budget: Budget; ms: number } | null = null;
    if (!this.lease) {
      const grant = leaseBudgetAcross({
        sets: [
          { limits: this.keyLimits, windows: key },
          { limits: this.ownerLimits, windows: owner },
        ],
        credits: null,
        now,
        maxMs: LEASE_MS,
        expiresAt: null,
        wantedRequests: wanted,
        cost: 1,
        otherHolders: 0,
        creditsLowThreshold: null,
      });
      if (grant) {
        lease = { id: this.nextId++, budget: grant.budget, ms: grant.ms };
        this.lease = {
          id: lease.id,
          budget: grant.budget,
          key: leasePeriods(this.keyLimits, null, now),
          owner: leasePeriods(this.ownerLimits, null, now),
        };
        [key = key, owner = owner] = grant.windows;
      }
    }
    this.counted = { windows: key, version: (this.counted?.version ?? 0) + 1 };
    this.ownerWindows = owner;
    return { allowed: true, lease, answer: { ...this.counted } };
  }

  /** The owner's object: a lease reported at its end, with no request. */
  release(report: { id: number; unused: Budget }, now: number) {
    const before = this.counted?.version;
    this.settle(report, now);
    return this.counted && this.counted.version !== before
      ? { ...this.counted }
      : { windows: {}, version: null };
  }

  /** The key's object takes an answer of the owner's. */
  take(answer: { windows: WindowStates; version: number | null }) {
    const taken = takeAnswer(this.copy, OWNER, this.keyWindows, answer);
    this.keyWindows = taken.windows;
    this.copy = taken.copy;
  }
}

describe("leases of an owned key", () => {
  it("admit exactly the key's quota to one isolate sending bursts: unused budget comes back to the key", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1_100, max: 3_000 }),
        fc.boolean(),
        (burst, gap, reportAtEnd) => {
          const quota = 100;
          const sim = new SimOwned([["day", quota]], [["minute", 10_000]]);
          let now = DAY_START + 3_600_000;
          let held: { id: number; left: Budget; endsAt: number } | null = null;
          let allowed = 0;
          for (let sent = 0; sent < 2 * quota + 40; ) {
            // The lease ends between bursts: reported then (release), or with the next ask.
            if (held && reportAtEnd && now >= held.endsAt) {
              sim.take(sim.release({ id: held.id, unused: held.left }, now));
              held = null;
            }
            for (let i = 0; i < burst; i++, sent++) {
              if (held && now < held.endsAt) {
                const left = spend(held.left, 1);
                if (left) {
                  held.left = left;
                  allowed += 1;
                  continue;
                }
              }
              const report = held ? { id: held.id, unused: held.left } : null;
              held = null;
              const answer = sim.meter(sim.ask(), report, 40, now);
              sim.take(answer.answer);
              if (answer.allowed) allowed += 1;
              if (answer.lease)
                held = {
                  id: answer.lease.id,
                  left: { ...answer.lease.budget },
                  endsAt: now + answer.lease.ms,
                };
            }
            now += gap;
          }
          expect(allowed).toBe(quota);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keep the owner's give-back in the key's copy, whatever order crossing answers arrive in", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        (rounds, shuffle) => {
          const sim = new SimOwned([["day", 1_000]], [["hour", 100_000]]);
          const now = DAY_START + 3_600_000;
          let held: { id: number; left: Budget } | null = null;
          let pick = 0;
          for (const inFlight of rounds) {
            // `inFlight` requests leave the key's object with the same copy; the first reports
            // the lease held so far, unused. Their answers come back in any order.
            const copy = sim.ask();
            const answers = Array.from({ length: inFlight }, (_, i) => {
              const report = i === 0 && held ? { id: held.id, unused: held.left } : null;
              const answer = sim.meter(copy, report, 40, now);
              if (i === 0) held = null;
              if (answer.lease) held = { id: answer.lease.id, left: { ...answer.lease.budget } };
              return answer.answer;
            });
            while (answers.length > 0) {
              const [answer] = answers.splice((shuffle[pick++ % shuffle.length] ?? 0) % answers.length, 1);
              if (answer) sim.take(answer);
            }
            // Once every answer is in, the key's copy is what the owner counts: the give-back included.
            expect(sim.keyWindows).toEqual(sim.counted?.windows);
          }
          if (held)
            sim.take(
              sim.release({ id: (held as { id: number }).id, unused: (held as { left: Budget }).left }, now),
            );
          const requests = rounds.reduce((sum, n) => sum + n, 0);
          expect(sim.keyWindows.day?.count).toBe(requests);
          expect(sim.ownerWindows.hour?.tat).toBe(now + requests * 36);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("start a key that comes to the owner from its own count, and keep it when it is ahead", () => {
    const now = DAY_START;
    const period = calendarPeriod("day", now).start;
    const counted = { windows: { day: { period, count: 10 } }, version: 4 };
    // The key's own count while it was not counted here: ahead of the owner's old entry.
    expect(ownerCountsFrom({ windows: { day: { period, count: 30 } }, version: null }, counted)).toEqual({
      day: { period, count: 30 },
    });
    // A copy this owner answered is never ahead of it: its own (given back) windows hold.
    expect(ownerCountsFrom({ windows: { day: { period, count: 30 } }, version: 4 }, counted)).toEqual(
      counted.windows,
    );
    expect(ownerCountsFrom({ windows: { day: { period, count: 30 } }, version: null }, undefined)).toEqual({
      day: { period, count: 30 },
    });
    // Counted here since the last answer: the copy is no longer that answer.
    const copy: OwnerCopy = { owner: OWNER, version: 4, windows: { day: { period, count: 10 } } };
    expect(copyVersion(copy, OWNER, { day: { period, count: 10 } })).toBe(4);
    expect(copyVersion(copy, OWNER, { day: { period, count: 11 } })).toBeNull();
    expect(copyVersion(copy, "ws/other", { day: { period, count: 10 } })).toBeNull();
  });
});

describe("lease records stored before they had a kind", () => {
  const periods: LeasePeriods = { limits: [["day", 100]], calendar: { day: DAY_START }, credits: null };
  const terms = { budget: { requests: 5, credits: null }, ms: 1000, endsAt: 0 };
  const storage = (entries: Record<string, unknown>) =>
    ({ list: async () => new Map(Object.entries(entries)) }) as unknown as DurableObjectStorage;

  it("are read by kind: own and via-owner in a key's object, owner in an owner's", async () => {
    const key = new LeaseBook<KeyLeaseRecord>(
      storage({
        "lease:a": { id: "1", periods, ...terms },
        "lease:b": { id: "2", periods: leasePeriods([], null, DAY_START), viaOwner: true, ...terms },
      }),
      () => DAY_START,
      (lease): lease is KeyLeaseRecord => lease.kind !== "owner",
    );
    await key.load();
    expect(key.holds("a", DAY_START)).toBe(true);
    expect(key.end("a", "1")).toMatchObject({ kind: "own", periods });
    expect(key.end("b", "2")?.kind).toBe("via-owner");
    const owner = new LeaseBook<OwnerLeaseRecord>(
      storage({ "lease:k/a": { id: "3", periods, keyPeriods: periods, ...terms } }),
      () => DAY_START,
      (lease): lease is OwnerLeaseRecord => lease.kind === "owner",
    );
    await owner.load();
    expect(owner.end("k/a", "3")).toMatchObject({ kind: "owner", keyPeriods: periods });
  });
});
