/**
 * `npm run bench:capacity` (node bench/capacity.ts): the capacity model of docs/capacity.md,
 * BEFORE (usage written to D1 by every key's object, up to commit f7c1291) and AFTER (today),
 * for 10^4 to 10^6 active keys and 10^3 to 10^5 requests a second, then the targets at the
 * default scenario, met or missed, and what would change them. The model is
 * bench/capacity-model.ts; nothing here is measured.
 */
import {
  AUDIT_ROW_BYTES,
  changeCost,
  D1_MAX_BYTES,
  D1_QUERIES_PER_SECOND,
  DAILY_USAGE_ROW_BYTES,
  DEFAULTS,
  type Design,
  d1Load,
  d1Storage,
  doLoad,
  doStorage,
  eventBytes,
  firstSeenPerLocation,
  GB,
  HOURLY_USAGE_ROW_BYTES,
  isolatesPerLocation,
  KEY_ROW_BYTES,
  type Params,
  scenarios,
  TARGET_D1_BYTES,
  TARGET_D1_QUERIES_PER_SECOND,
  targets,
} from "./capacity-model.ts";

const DESIGNS: Design[] = ["before", "after"];

function num(value: number): string {
  if (value === 0) return "0";
  if (value >= 100) return Math.round(value).toLocaleString("en-US");
  if (value >= 10) return value.toFixed(1);
  return value.toPrecision(2);
}

function gb(bytes: number): string {
  return (bytes / GB).toFixed(2);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => row[index]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, index) => cell.padStart(widths[index] ?? 0)).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

function row(p: Params, design: Design): string[] {
  const d1 = d1Load(p, design);
  const storage = d1Storage(p, design);
  const objects = doLoad(p, design);
  return [
    p.activeKeys.toExponential(0),
    p.requestsPerSecond.toExponential(0),
    design,
    num(d1.total),
    num(d1.lookups),
    num(d1.usage),
    num(d1.admin),
    num(d1.events),
    num(d1.crons),
    gb(storage.steady),
    gb(storage.growthPerMonth),
    num(objects.keys),
    num(objects.owners),
    num(objects.shards),
    num(objects.contexts),
  ];
}

const HEADER = [
  "active keys",
  "req/s",
  "design",
  "D1 q/s",
  "lookups",
  "usage",
  "admin",
  "events",
  "crons",
  "D1 GB",
  "GB/month",
  "key DO calls/s",
  "owner",
  "shards",
  "context",
];

function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

function report(): string {
  const out: string[] = [];
  const p = DEFAULTS;
  out.push("Capacity model (docs/capacity.md): computed from the code's constants, not measured.");
  out.push(
    `D1: ~${D1_QUERIES_PER_SECOND.toLocaleString("en-US")} queries/s, ${D1_MAX_BYTES / GB} GB. ` +
      "A Durable Object: ~1,000 calls/s, 10 GB.",
  );
  out.push("");
  out.push("Assumptions (DEFAULTS of bench/capacity-model.ts; the scenarios vary active keys and req/s):");
  for (const [name, value] of Object.entries(p)) out.push(`  ${name} = ${value}`);
  out.push(
    `  derived: ${num(firstSeenPerLocation(p))} keys first seen per location per second; ` +
      `${num(isolatesPerLocation(p))} isolates per location`,
  );
  out.push(
    `Row sizes (bytes, SQLite overhead and indexes included): key ${Math.round(KEY_ROW_BYTES)}, ` +
      `daily usage ${Math.round(DAILY_USAGE_ROW_BYTES)}, hourly usage ${Math.round(HOURLY_USAGE_ROW_BYTES)}, ` +
      `event ${Math.round(eventBytes(p.webhooks))}, audit entry ${Math.round(AUDIT_ROW_BYTES)}`,
  );
  out.push("");
  out.push(
    "D1 q/s = lookups + usage + context + admin + events + crons (context BEFORE: 0 here, no roles or owners;" +
      " AFTER: the context shards' reads after a start or a change). DO calls/s: keys' objects, owners', usage" +
      " shards', context shards' (AFTER: a context ask per key object per lease length while asked).",
  );
  out.push(
    "D1 GB: steady state (retention full); GB/month: what nothing removes (audit; BEFORE daily usage).",
  );
  out.push("");
  const rows = scenarios().flatMap((scenario) => DESIGNS.map((design) => row(scenario, design)));
  out.push(table(HEADER, rows));
  out.push("");
  out.push(
    `Targets at the default scenario (${p.activeKeys.toExponential(0)} active keys, ` +
      `${p.requestsPerSecond.toExponential(0)} req/s): D1 queries/s independent of requests and under ` +
      `${TARGET_D1_QUERIES_PER_SECOND}; D1 storage under ${TARGET_D1_BYTES / GB} GB.`,
  );
  for (const design of DESIGNS) {
    const t = targets(p, design);
    const growth = d1Storage(p, design);
    out.push(
      `  ${design.padEnd(6)} independent of requests: ${verdict(t.independentOfTraffic)}; ` +
        `D1 q/s ${num(t.d1QueriesPerSecond)}: ${verdict(t.d1QueriesUnderTarget)}; ` +
        `D1 ${gb(t.d1Bytes)} GB: ${verdict(t.d1BytesUnderTarget)} ` +
        `(${gb(growth.growthPerMonth)} GB a month more: ${TARGET_D1_BYTES / GB} GB after ${num(growth.monthsToTarget)} months)`,
    );
  }
  out.push("");
  out.push("AFTER at the default scenario, one assumption changed:");
  const variants: [string, Params][] = [
    ["lookups kept 7 days by the location (lookupTtlSeconds 604800)", { ...p, lookupTtlSeconds: 7 * 86_400 }],
    ["each key served by 1 location (locationsPerKey 1)", { ...p, locationsPerKey: 1 }],
    ["10% of active keys with roles or an owner (contextKeyShare 0.1)", { ...p, contextKeyShare: 0.1 }],
    [
      "10% with a metered owner (ownerMeteredShare 0.1, contextKeyShare 0.1)",
      { ...p, contextKeyShare: 0.1, ownerMeteredShare: 0.1 },
    ],
    ["10,000 workspaces (workspaces 1e4)", { ...p, workspaces: 10_000 }],
    [
      "1 admin change/s (adminChangesPerSecond 1, auditEntriesPerDay 86400)",
      {
        ...p,
        adminChangesPerSecond: 1,
        auditEntriesPerDay: 86_400,
      },
    ],
  ];
  for (const [label, variant] of variants) {
    const t = targets(variant, "after");
    const d1 = d1Load(variant, "after");
    const objects = doLoad(variant, "after");
    out.push(
      `  ${label}: D1 ${num(t.d1QueriesPerSecond)} q/s (lookups ${num(d1.lookups)}, usage ${num(d1.usage)}, ` +
        `context ${num(d1.context)}), independent of requests: ${verdict(t.independentOfTraffic)}, ` +
        `under ${TARGET_D1_QUERIES_PER_SECOND}: ${verdict(t.d1QueriesUnderTarget)}; ` +
        `${gb(t.d1Bytes)} GB + ${gb(d1Storage(variant, "after").growthPerMonth)} GB/month; ` +
        `owner calls ${num(objects.owners)}/s`,
    );
  }
  out.push("");
  const objects = doLoad(p, "after");
  const stored = doStorage(p, "after");
  out.push(
    `Durable Objects, AFTER, default scenario: ${num(objects.perKey)} calls/s per key object, ` +
      `${num(objects.perShard)} per usage shard, ${num(objects.perContextShard)} per context shard ` +
      `(limit ~1,000 each); a key's object holds ` +
      `${num(stored.perKey / 1_000)} KB with full retention, a shard ${num(stored.perShard / 1e6)} MB ` +
      `(BEFORE: ${num(doStorage(p, "before").perKey / 1_000)} KB per key, no shards).`,
  );
  out.push("");
  out.push("One plan change, role edit or PUT /owners, by workspace size (object calls; longest wait):");
  for (const keys of [100, 5_000, 10_000, 100_000]) {
    const before = changeCost(keys, p, "before");
    const after = changeCost(keys, p, "after");
    out.push(
      `  ${keys.toLocaleString("en-US").padStart(7)} keys: BEFORE ${before.calls.toLocaleString("en-US")} calls, ` +
        `up to ${num(before.waitSeconds)} s; AFTER ${after.calls} calls, up to ${num(after.waitSeconds)} s`,
    );
  }
  return out.join("\n");
}

console.log(report());
