/**
 * The import rule of the tree (docs/architecture.md): imports point one way, from the HTTP
 * surfaces down to the domain. Each folder of `src/` has a rank; a file may import only from a
 * lower rank (or its own folder). `env.ts` (the bindings' and context's types) is the one
 * exception: it is imported for types everywhere and imports types from everywhere.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(new URL(import.meta.url).pathname), "../../src");

/** Rank of each top-level entry of src/: higher may import lower. */
const RANKS: Record<string, number> = {
  "index.ts": 9,
  "app.ts": 8,
  routes: 7,
  admin: 7,
  edge: 6,
  http: 5,
  services: 4,
  sessions: 3,
  "key-object": 3,
  storage: 2,
  keys: 1,
  limits: 1,
  policy: 1,
  "fail-closed.ts": 0.5,
  "refusals.ts": 0,
  "log.ts": 0,
  /** The helper origins use to check an assertion: stands alone. */
  origin: 0,
  /** The typed client of the API (`portcullis/client`): only its generated types. */
  client: 0,
  /** The `portcullis` CLI: built on the client, and on nothing else of src/. */
  cli: 0,
};
/** Folders of one rank that may import each other: the pure domain. */
const SHARED_RANK = new Set(["keys", "limits", "policy"]);
/** The one import allowed between two other folders of one rank: the CLI uses the client. */
const ALLOWED: Record<string, string> = { cli: "client" };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function topOf(file: string): string {
  return relative(SRC, file).split("/")[0] as string;
}

const IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^;]*?\sfrom\s+)?["'](\.[^"']+)["']/g;

/** Every relative import of src/ as [importer, imported], both relative to src/. */
function importsOf(): [string, string][] {
  return sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(IMPORT)].map((match): [string, string] => {
      const target = normalize(join(dirname(file), match[1] as string));
      return [relative(SRC, file), relative(SRC, target.endsWith(".ts") ? target : `${target}.ts`)];
    }),
  );
}

function backwardImports(imports: [string, string][]): string[] {
  return imports
    .filter(([from, to]) => {
      const a = from.split("/")[0] as string;
      const b = to.split("/")[0] as string;
      if (a === b || a === "env.ts" || b === "env.ts" || ALLOWED[a] === b) return false;
      const ra = RANKS[a];
      const rb = RANKS[b];
      if (ra === undefined || rb === undefined) return true;
      return rb > ra || (rb === ra && !(SHARED_RANK.has(a) && SHARED_RANK.has(b)));
    })
    .map(([from, to]) => `${from} -> ${to}`);
}

describe("the import rule", () => {
  it("every top-level entry of src/ has a rank", () => {
    const tops = new Set(sourceFiles(SRC).map(topOf));
    expect([...tops].filter((top) => RANKS[top] === undefined && top !== "env.ts")).toEqual([]);
  });

  it("no import points back up", () => {
    expect(backwardImports(importsOf())).toEqual([]);
  });

  it("would catch one (a service importing HTTP code)", () => {
    expect(backwardImports([["services/keys.ts", "http/problem.ts"]])).toEqual([
      "services/keys.ts -> http/problem.ts",
    ]);
    expect(backwardImports([["policy/compiled.ts", "key-object/decide.ts"]])).toHaveLength(1);
  });

  it("lets the CLI import the client and nothing else of src/", () => {
    expect(backwardImports([["cli/session.ts", "client/index.ts"]])).toEqual([]);
    expect(backwardImports([["cli/session.ts", "keys/format.ts"]])).toHaveLength(1);
    expect(backwardImports([["cli/session.ts", "services/keys.ts"]])).toHaveLength(1);
    expect(backwardImports([["client/index.ts", "cli/session.ts"]])).toHaveLength(1);
  });
});
