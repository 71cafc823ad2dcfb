/**
 * `npm run soak -- [--minutes M] [--seed S] [--kills K] [--clients C] [--keep]`: runs the soak
 * (soak.ts), prints one line per invariant and a summary, and exits non-zero if any fails.
 */
import { parseArgs } from "node:util";
import { formatResult, runSoak } from "./soak.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "3" },
    seed: { type: "string", default: "1" },
    kills: { type: "string", default: "0" },
    clients: { type: "string", default: "12" },
    keep: { type: "boolean", default: false },
  },
});

function count(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number of at least ${min}`);
    process.exit(2);
  }
  return value;
}

const report = await runSoak({
  minutes: count("minutes", values.minutes, 0.1),
  seed: Math.floor(count("seed", values.seed, 0)),
  kills: Math.floor(count("kills", values.kills, 0)),
  clients: Math.floor(count("clients", values.clients, 1)),
  keep: values.keep,
});
console.log("");
for (const result of report.results) for (const line of formatResult(result)) console.log(line);
console.log("");
for (const line of report.summary) console.log(line);
const failed = report.results.filter((r) => !r.ok).map((r) => r.name);
console.log(failed.length === 0 ? "soak: every invariant holds" : `soak: FAILED: ${failed.join(", ")}`);
process.exit(failed.length === 0 ? 0 : 1);
