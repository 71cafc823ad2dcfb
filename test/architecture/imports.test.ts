/**
 * The import rule of the tree (docs/architecture.md): imports point one way, from the HTTP
 * surfaces down to the domain. Each folder of `src/` has a rank; a file may import only from a
 * lower rank (or its own folder), and no chain of imports, even inside one folder, comes back to
 * where it started. The Worker's bindings are the global `Env` (worker-env.d.ts, over what
 * `wrangler types` generates), outside src/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(new URL(import.meta.url).pathname), "../../src");

/** Rank of each top-level entry of src/: higher may import lower. */
const RANKS: Record<string, number> = {
  "index.ts": 9,
  "app.ts": 8,
  /** The Worker's own routes: the protected API, forward-auth, self, health, leak reports, and verify, which uses the admin's auth and OpenAPI helpers. */
  routes: 7.5,
  /** The portal API `P/portal/v1` (docs/portal.md): routes built on the admin's OpenAPI helpers and schemas. */
  portal: 7.2,
  admin: 7,
  /** Problem rendering, the error handler, the request log, the Hono environment of every route, the browser files' serving. */
  http: 6.5,
  edge: 6,
  services: 4,
  sessions: 3,
  "key-object": 3,
  /** What runs in the isolate on a request's path: the objects' clients, their contract, the lease holder. */
  "key-client": 2.5,
  storage: 2,
  /** The pure decision of one request (rows 5-13 of docs/decisions.md), built on the domain below it. */
  decision: 1.5,
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
      if (a === b || ALLOWED[a] === b) return false;
      const ra = RANKS[a];
      const rb = RANKS[b];
      if (ra === undefined || rb === undefined) return true;
      return rb > ra || (rb === ra && !(SHARED_RANK.has(a) && SHARED_RANK.has(b)));
    })
    .map(([from, to]) => `${from} -> ${to}`);
}

/** Every cycle of imports between files, each as the files on it (Tarjan's strongly connected components). */
function cycles(imports: [string, string][]): string[][] {
  const next = new Map<string, string[]>();
  for (const [from, to] of imports) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file) as number);
    stack.push(file);
    onStack.add(file);
    for (const target of next.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || next.get(file)?.includes(file)) found.push(component.sort());
  };
  for (const file of next.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe("the import rule", () => {
  it("every top-level entry of src/ has a rank", () => {
    const tops = new Set(sourceFiles(SRC).map(topOf));
    expect([...tops].filter((top) => RANKS[top] === undefined)).toEqual([]);
  });

  it("no chain of imports comes back to where it started", () => {
    expect(cycles(importsOf())).toEqual([]);
  });

  it("would catch a cycle inside one folder", () => {
    const cycle: [string, string][] = [
      ["keys/events.ts", "keys/record.ts"],
      ["keys/record.ts", "policy/schema.ts"],
      ["policy/schema.ts", "keys/events.ts"],
    ];
    expect(cycles(cycle)).toEqual([["keys/events.ts", "keys/record.ts", "policy/schema.ts"]]);
  });

  it("no import points back up", () => {
    expect(backwardImports(importsOf())).toEqual([]);
  });

  it("would catch one (a service importing HTTP code)", () => {
    expect(backwardImports([["services/keys.ts", "http/problem.ts"]])).toEqual([
      "services/keys.ts -> http/problem.ts",
    ]);
    expect(backwardImports([["policy/compiled.ts", "decision/decide.ts"]])).toHaveLength(1);
  });

  it("lets the CLI import the client and nothing else of src/", () => {
    expect(backwardImports([["cli/session.ts", "client/index.ts"]])).toEqual([]);
    expect(backwardImports([["cli/session.ts", "keys/format.ts"]])).toHaveLength(1);
    expect(backwardImports([["cli/session.ts", "services/keys.ts"]])).toHaveLength(1);
    expect(backwardImports([["client/index.ts", "cli/session.ts"]])).toHaveLength(1);
  });
});
