/**
 * `npm run mutate`: a small mutation test of the core modules. Each mutant changes one operator
 * on one line (=== / !==, < / <=, > / >=, && / ||, true / false, + / -), the module's tests run,
 * and the mutant is killed when they fail. Prints every surviving mutant and the score.
 *
 *   npm run mutate                 every module, at most 15 mutants each (evenly spread)
 *   npm run mutate -- --max 40     more mutants per module
 *   npm run mutate -- --exclude test/worker/guards.test.ts   score without some tests
 *   npm run mutate -- --only src/keys/change.ts              one module
 *
 * The source is restored after each mutant, also when interrupted.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

/** Modules under test, each with the tests that guard it. */
const TARGETS = [
  ["src/keys/format.ts", ["test/unit/key-format.test.ts"]],
  ["src/keys/permissions.ts", ["test/unit/permissions.test.ts"]],
  ["src/keys/change.ts", ["test/unit/change.test.ts"]],
  ["src/keys/ip-allowlist.ts", ["test/unit/ip-allowlist.test.ts"]],
  ["src/keys/record.ts", ["test/unit/change.test.ts", "test/worker/decisions.test.ts"]],
  ["src/limits/windows.ts", ["test/unit/windows.test.ts"]],
  ["src/limits/meter.ts", ["test/unit/credits.test.ts", "test/worker/limits.test.ts"]],
  ["src/limits/credits.ts", ["test/unit/credits.test.ts"]],
  [
    "src/decision/decide.ts",
    ["test/worker/decisions.test.ts", "test/worker/limits.test.ts", "test/worker/roles.test.ts"],
  ],
  ["src/limits/lease.ts", ["test/unit/lease.test.ts", "test/worker/leases.test.ts"]],
  [
    "src/key-object/lease-book.ts",
    ["test/worker/leases.test.ts", "test/security/leases.test.ts", "test/unit/lease.test.ts"],
  ],
  [
    "src/key-object/ordered-writes.ts",
    [
      "test/worker/consistency.test.ts",
      "test/security/dependency-faults.test.ts",
      "test/security/races.test.ts",
    ],
  ],
];

const OPERATORS = [
  [/ === /, " !== "],
  [/ !== /, " === "],
  [/ <= /, " < "],
  [/ >= /, " > "],
  [/ < /, " <= "],
  [/ > (?!=)/, " >= "],
  [/ && /, " || "],
  [/ \|\| /, " && "],
  [/\btrue\b/, "false"],
  [/\bfalse\b/, "true"],
  [/ \+ /, " - "],
  [/ - /, " + "],
];

const args = process.argv.slice(2);
const max = Number(args[args.indexOf("--max") + 1]) || 15;
const excluded = args.flatMap((arg, i) => (args[i - 1] === "--exclude" ? [arg] : []));
const only = args.flatMap((arg, i) => (args[i - 1] === "--only" ? [arg] : []));

function mutants(source) {
  const lines = source.split("\n");
  const found = [];
  lines.forEach((line, index) => {
    const code = line.trim();
    if (code.startsWith("*") || code.startsWith("/") || code.startsWith("import") || code === "") return;
    for (const [pattern, replacement] of OPERATORS) {
      if (pattern.test(line)) found.push({ index, line, mutated: line.replace(pattern, replacement) });
    }
  });
  if (found.length <= max) return found;
  const step = found.length / max;
  return Array.from({ length: max }, (_, i) => found[Math.floor(i * step)]);
}

function testsPass(tests) {
  const run = spawnSync("npx", ["vitest", "run", "--project", "workers", "--reporter=dot", ...tests], {
    encoding: "utf8",
    env: { ...process.env, CI: "true" },
  });
  return run.status === 0;
}

let killed = 0;
let total = 0;
const survivors = [];
let restore = null;
process.on("SIGINT", () => {
  restore?.();
  process.exit(130);
});
for (const [file, allTests] of TARGETS.filter(([file]) => only.length === 0 || only.includes(file))) {
  const tests = allTests.filter((test) => !excluded.includes(test));
  const original = readFileSync(file, "utf8");
  restore = () => writeFileSync(file, original);
  if (!testsPass(tests)) throw new Error(`the tests of ${file} fail without any mutant`);
  for (const mutant of mutants(original)) {
    const lines = original.split("\n");
    lines[mutant.index] = mutant.mutated;
    writeFileSync(file, lines.join("\n"));
    total += 1;
    if (tests.length > 0 && !testsPass(tests)) killed += 1;
    else survivors.push(`${file}:${mutant.index + 1}: ${mutant.mutated.trim()}`);
    restore();
  }
  console.log(`${file}: ${total - survivors.length} of ${total} killed so far`);
}
console.log(`\nsurviving mutants:\n${survivors.join("\n") || "(none)"}`);
console.log(`\nmutation score: ${killed} of ${total} killed (${Math.round((100 * killed) / total)}%)`);
