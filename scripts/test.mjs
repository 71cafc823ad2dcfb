/**
 * `npm test`: every check, each run even when an earlier one fails, then one summary line.
 *
 *   typecheck   tsc --noEmit
 *   lint        biome check (lint and format; warnings count as errors)
 *   tests       vitest: the Workers-runtime suite and the end-to-end suite
 *
 * The typecheck and the lint count as one test case each; vitest reports its own cases.
 * The last line is `N passed, N failed` (CI reads it), and the exit code is non-zero on failure.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const REPORT = "test-results/vitest.json";

function run(name, command, args) {
  console.log(`\n> ${name}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit" });
  return result.status === 0;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const [name, command, args] of [
  ["typecheck", "tsc", ["--noEmit"]],
  ["lint", "biome", ["check", "--error-on-warnings", "."]],
]) {
  if (run(name, command, args)) passed += 1;
  else failed += 1;
}

rmSync(REPORT, { force: true });
const vitestOk = run("tests", "vitest", ["run", ...process.argv.slice(2)]);
if (existsSync(REPORT)) {
  const report = JSON.parse(readFileSync(REPORT, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  // A suite that failed to load has no failed test, but the run failed.
  if (!vitestOk && report.numFailedTests === 0) failed += 1;
} else if (!vitestOk) {
  failed += 1;
}

console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
