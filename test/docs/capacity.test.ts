/**
 * The capacity model (bench/capacity-model.ts, docs/capacity.md): today's design keeps D1's
 * queries flat in requests and its storage bounded; the design before it (usage written to D1 by
 * every key's object) does not; and the model's copies of the code's constants are the code's.
 */
import { describe, expect, it } from "vitest";
import {
  CONTEXT_SHARDS,
  changeCost,
  DEFAULTS,
  d1Load,
  d1Storage,
  doLoad,
  FLUSH_S,
  KEY_LOOKUP_TTL_SECONDS,
  type Params,
  scenarios,
  TARGET_D1_QUERIES_PER_SECOND,
  targets,
} from "../../bench/capacity-model.ts";
import { CONTEXT_SHARDS as CODE_CONTEXT_SHARDS } from "../../src/key-client/context-client.ts";
import { FLUSH_DELAY_MS } from "../../src/key-object/usage.ts";
import { HOURLY_RETENTION_MS } from "../../src/key-object/usage-periods.ts";
import { DEFAULT_DAILY_USAGE_DAYS } from "../../src/policy/schema.ts";
import { EVENT_RETENTION_MS } from "../../src/services/events.ts";
import { KEY_LOOKUP_TTL_SECONDS as CODE_LOOKUP_TTL } from "../../src/storage/key-lookup-cache.ts";

const DAY_MS = 86_400_000;

describe("capacity model", () => {
  it("takes the code's figures", () => {
    expect(KEY_LOOKUP_TTL_SECONDS).toBe(CODE_LOOKUP_TTL);
    expect(CONTEXT_SHARDS).toBe(CODE_CONTEXT_SHARDS);
    expect(FLUSH_S * 1_000).toBe(FLUSH_DELAY_MS);
    expect(DEFAULTS.dailyUsageDays).toBe(DEFAULT_DAILY_USAGE_DAYS);
    expect(DEFAULTS.hourlyUsageDays * DAY_MS).toBe(HOURLY_RETENTION_MS);
    expect(DEFAULTS.eventRetentionDays * DAY_MS).toBe(EVENT_RETENTION_MS);
  });

  it("AFTER: D1 queries per second do not change when requests grow 100 times (same keys)", () => {
    for (const scenario of scenarios()) {
      const more: Params = { ...scenario, requestsPerSecond: scenario.requestsPerSecond * 100 };
      expect(d1Load(more, "after").total).toBeCloseTo(d1Load(scenario, "after").total, 9);
      expect(targets(scenario, "after").independentOfTraffic).toBe(true);
    }
  });

  it("AFTER meets both D1 targets at the default scenario, and the lookups a week-long cache leaves are most of its queries", () => {
    const after = targets(DEFAULTS, "after");
    expect(after.independentOfTraffic).toBe(true);
    expect(after.d1BytesUnderTarget).toBe(true);
    expect(after.d1QueriesUnderTarget).toBe(true);
    // docs/capacity.md#targets: each key's lookup is read again at each of its locations once
    // its week in the location's cache is over; a day-long cache would miss the target.
    const load = d1Load(DEFAULTS, "after");
    expect(load.lookups).toBeGreaterThanOrEqual(
      (DEFAULTS.activeKeys * DEFAULTS.locationsPerKey) / KEY_LOOKUP_TTL_SECONDS,
    );
    expect(targets({ ...DEFAULTS, lookupTtlSeconds: 86_400 }, "after").d1QueriesUnderTarget).toBe(false);
  });

  it("BEFORE misses the D1 targets: its queries grow with requests and its usage rows outgrow the storage", () => {
    const before = targets(DEFAULTS, "before");
    expect(before.independentOfTraffic).toBe(false);
    expect(before.d1QueriesUnderTarget).toBe(false);
    expect(before.d1QueriesPerSecond).toBeGreaterThan(100 * TARGET_D1_QUERIES_PER_SECOND);
    expect(before.d1BytesUnderTarget).toBe(false);
    expect(d1Storage(DEFAULTS, "before").growthPerMonth).toBeGreaterThan(
      10 * d1Storage(DEFAULTS, "after").growthPerMonth,
    );
  });

  it("BEFORE, keys with roles or an owner re-read their context from D1 with requests; AFTER, the context shards' reads do not grow with them", () => {
    const roles: Params = { ...DEFAULTS, contextKeyShare: 0.1, ownerMeteredShare: 0.1 };
    expect(d1Load(roles, "before").context).toBeGreaterThan(0);
    const more = { ...roles, requestsPerSecond: roles.requestsPerSecond * 100 };
    expect(d1Load(more, "before").context).toBeGreaterThan(d1Load(roles, "before").context);
    expect(d1Load(more, "after").context).toBeCloseTo(d1Load(roles, "after").context, 9);
    expect(targets(roles, "after").independentOfTraffic).toBe(true);
    expect(targets(roles, "after").d1QueriesUnderTarget).toBe(true);
  });

  it("a plan change, role edit or owner change costs the context shards AFTER, one call per key BEFORE", () => {
    for (const keys of [100, 5_000, 100_000]) {
      expect(changeCost(keys, DEFAULTS, "after")).toEqual({
        calls: CONTEXT_SHARDS,
        waitSeconds: DEFAULTS.leaseMs / 1_000,
      });
      expect(changeCost(keys, DEFAULTS, "before").calls).toBe(keys);
    }
    // The price: a context ask per key's object per lease length while the key is asked.
    const load = doLoad(DEFAULTS, "after");
    expect(load.contexts).toBeGreaterThan(0);
    expect(load.perContextShard).toBeLessThan(1_000);
    expect(doLoad(DEFAULTS, "before").contexts).toBe(0);
  });
});
