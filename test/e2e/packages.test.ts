/**
 * The published packages as a newcomer gets them (docs/packages.md): `npm run build:packages`,
 * `npm pack` of each package, the tarballs installed into a fresh project outside the clone (so
 * nothing resolves from the repo's node_modules), then the CLI, a plain `.mjs`, a TypeScript
 * check (`nodenext` and `bundler`) and an esbuild bundle, on Node 20 and on the project's Node,
 * against the end-to-end deployment.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { E2E_ROOT_TOKEN } from "./fixtures";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The packages `npm run build:packages` builds, by folder under packages/. */
const PACKAGES = [
  { folder: "client", name: "@portcullis/client" },
  { folder: "cli", name: "portcullis" },
];
/**
 * Node 20, the oldest the packages declare (the system's on the CI machine; another path in
 * PORTCULLIS_NODE_20), and the project's Node (the `node` devDependency).
 */
const NODE_20 = process.env.PORTCULLIS_NODE_20 ?? "/usr/bin/node";
const NODES = [
  { label: "Node 20", binary: NODE_20 },
  { label: "the project's Node", binary: process.execPath },
];
/** The repo's compilers, run by path: the fresh project has neither. */
const TSC = join(ROOT, "node_modules/.bin/tsc");
const ESBUILD = join(ROOT, "node_modules/.bin/esbuild");
/** Building, packing and installing from the registry, on a loaded machine. */
const SETUP_TIMEOUT_MS = 300_000;
const STEP_TIMEOUT_MS = 120_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What `npm test` exports about the clone, which a fresh project's npm must not inherit. */
const CLONE_VARIABLES =
  /^(NODE_PATH|NODE_OPTIONS|INIT_CWD|npm_(lifecycle|package|config_(local_|global_)?prefix|execpath|node_execpath)\w*)$/;

/**
 * The environment of a fresh shell: `node` is `binary`, no node_modules/.bin of the clone, and
 * nothing of the clone's npm run (the user's npm configuration, a registry say, stays).
 */
function shellEnv(binary: string): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((entry) => !entry.includes(`${sep}node_modules${sep}`));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [dirname(binary), ...path].join(delimiter) };
  for (const name of Object.keys(env)) if (CLONE_VARIABLES.test(name)) delete env[name];
  return env;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end();
  });
}

/** Runs to its end and must exit 0; answers stdout. */
async function succeed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const result = await run(command, args, cwd, env);
  expect(result.code, `${command} ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

let work: string;
let project: string;
const packed = new Map<string, { files: string[]; manifest: Record<string, unknown> }>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "portcullis-packages-"));
  const env = shellEnv(process.execPath);
  await succeed(process.execPath, [join(ROOT, "scripts/build-packages.mjs")], ROOT, env);
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  const files: string[] = [];
  for (const { folder, name } of PACKAGES) {
    const directory = join(ROOT, "packages", folder);
    const out = await succeed("npm", ["pack", "--json", "--pack-destination", tarballs], directory, env);
    const [tarball] = JSON.parse(out) as { name: string; filename: string; files: { path: string }[] }[];
    if (tarball === undefined) throw new Error(`npm pack of ${name} answered nothing`);
    expect(tarball.name).toBe(name);
    files.push(join(tarballs, tarball.filename));
    packed.set(name, {
      files: tarball.files.map((file) => file.path),
      manifest: JSON.parse(readFileSync(join(directory, "package.json"), "utf8")),
    });
  }
  project = join(work, "fresh");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "fresh", version: "1.0.0", private: true, type: "module" }),
  );
  await succeed("npm", ["install", "--no-audit", "--no-fund", ...files], project, env);
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packages as published", () => {
  it("are installed into a project that cannot see the clone's node_modules", () => {
    for (let folder = project; folder !== dirname(folder); folder = dirname(folder)) {
      if (folder !== project) expect(existsSync(join(folder, "node_modules")), folder).toBe(false);
    }
    expect(project.startsWith(ROOT)).toBe(false);
  });

  it.each(PACKAGES)("$name ships JavaScript and declarations, no TypeScript source", ({ name }) => {
    const tarball = packed.get(name);
    expect(tarball).toBeDefined();
    const { files, manifest } = tarball as NonNullable<typeof tarball>;
    expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files).toContain("LICENSE");
    expect(files).toContain("README.md");
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe("Apache-2.0");
    expect(manifest.type).toBe("module");
    expect(manifest.engines).toEqual({ node: ">=20" });
    expect(manifest.exports).toMatchObject({
      ".": { types: "./dist/index.d.ts", import: "./dist/index.js" },
    });
  });
});

describe.each(NODES)("on $label", ({ binary }) => {
  const env = () => ({
    ...shellEnv(binary),
    PORTCULLIS_URL: inject("portcullisUrl"),
    PORTCULLIS_TOKEN: E2E_ROOT_TOKEN,
  });

  it("is the Node it names", async () => {
    const version = (await succeed("node", ["--version"], project, env())).trim();
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (binary === NODE_20) expect(major).toBe(20);
    else expect(major).toBeGreaterThanOrEqual(22);
  });

  it(
    "`npx portcullis --help` prints the usage",
    async () => {
      const help = await succeed("npx", ["portcullis", "--help"], project, env());
      expect(help).toContain("Usage: portcullis");
      expect(help).toContain("workspaces");
      const version = await succeed("npx", ["portcullis", "--version"], project, env());
      expect(version.trim()).toBe(packed.get("portcullis")?.manifest.version);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "`npx portcullis workspaces` creates and lists against wrangler dev",
    async () => {
      const name = `packages-${Math.random().toString(36).slice(2)}`;
      const created = JSON.parse(
        await succeed("npx", ["portcullis", "workspaces", "create", name, "--json"], project, env()),
      );
      expect(created.id).toMatch(/^ws_/);
      const listed = JSON.parse(
        await succeed("npx", ["portcullis", "workspaces", "list", "--json"], project, env()),
      );
      expect(listed.items.map((workspace: { id: string }) => workspace.id)).toContain(created.id);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "a plain .mjs runs a command line with `run` of the portcullis package",
    async () => {
      writeFileSync(
        join(project, "cli.mjs"),
        `import { run } from "portcullis";
process.exitCode = await run(["workspaces", "list", "--json"]);
`,
      );
      const listed = JSON.parse(await succeed("node", ["cli.mjs"], project, env()));
      expect(Array.isArray(listed.items)).toBe(true);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "a plain .mjs uses @portcullis/client against wrangler dev",
    async () => {
      writeFileSync(
        join(project, "client.mjs"),
        `import { createClient, PortcullisError, verifyKey } from "@portcullis/client";
const client = createClient({ baseUrl: process.env.PORTCULLIS_URL, token: process.env.PORTCULLIS_TOKEN });
const workspace = await client.POST("/_portcullis/admin/v1/workspaces", { body: { name: "mjs" } });
const created = await client.POST("/_portcullis/admin/v1/keys", { body: { workspaceId: workspace.id, type: "server" } });
const verified = await verifyKey(client, created.key);
let refused;
try {
  await createClient({ baseUrl: process.env.PORTCULLIS_URL, token: "wrong" }).GET("/_portcullis/admin/v1/workspaces");
} catch (error) {
  refused = error instanceof PortcullisError ? error.status : "not a PortcullisError";
}
console.log(JSON.stringify({ workspace: workspace.id, valid: verified.valid, keyId: verified.keyId, id: created.id, refused }));
`,
      );
      const answer = JSON.parse(await succeed("node", ["client.mjs"], project, env()));
      expect(answer.workspace).toMatch(/^ws_/);
      expect(answer.valid).toBe(true);
      expect(answer.keyId).toBe(answer.id);
      expect(answer.refused).toBe(401);
    },
    STEP_TIMEOUT_MS,
  );
});

describe("TypeScript and bundlers", () => {
  const TYPED = `import { createClient, PortcullisError, type components } from "@portcullis/client";
import { run } from "portcullis";
export const exitCode: Promise<number> = run(["--help"]);
const client = createClient({ baseUrl: "https://api.example.com", token: "t" });
const list = await client.GET("/_portcullis/admin/v1/workspaces");
const first: components["schemas"]["Workspace"] | undefined = list.items[0];
export const ids: string[] = list.items.map((workspace) => workspace.id);
export const status = (error: PortcullisError): number => error.status;
export { first };
`;
  /** The same client called with a path the API does not have: the types must refuse it. */
  const MISTYPED = `import { createClient } from "@portcullis/client";
const client = createClient({ baseUrl: "https://api.example.com", token: "t" });
export const answer = await client.GET("/_portcullis/admin/v1/no-such-path");
`;

  it.each([
    ["nodenext", "nodenext"],
    ["esnext", "bundler"],
  ])(
    "`tsc --noEmit` with module %s, moduleResolution %s, checks the client's types",
    async (module, moduleResolution) => {
      const folder = join(project, `ts-${moduleResolution}`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, "typed.ts"), TYPED);
      writeFileSync(join(folder, "mistyped.ts"), MISTYPED);
      const options = { module, moduleResolution, target: "es2022", strict: true, noEmit: true };
      const config = (file: string) =>
        JSON.stringify({ compilerOptions: { ...options, skipLibCheck: false }, files: [file] });
      writeFileSync(join(folder, "tsconfig.json"), config("typed.ts"));
      writeFileSync(join(folder, "tsconfig.mistyped.json"), config("mistyped.ts"));
      const env = shellEnv(process.execPath);
      await succeed(TSC, ["--noEmit", "-p", "tsconfig.json"], folder, env);
      const mistyped = await run(TSC, ["--noEmit", "-p", "tsconfig.mistyped.json"], folder, env);
      expect(mistyped.code).not.toBe(0);
      expect(mistyped.stdout).toContain("no-such-path");
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "esbuild bundles a page importing the client, and the bundle works",
    async () => {
      writeFileSync(
        join(project, "page.js"),
        `import { createClient } from "@portcullis/client";
export async function workspaces(baseUrl, token) {
  return createClient({ baseUrl, token }).GET("/_portcullis/admin/v1/workspaces");
}
`,
      );
      const env = shellEnv(process.execPath);
      await succeed(
        ESBUILD,
        ["page.js", "--bundle", "--format=esm", "--platform=browser", "--outfile=dist/page.js"],
        project,
        env,
      );
      const bundled = readFileSync(join(project, "dist/page.js"), "utf8");
      expect(bundled).not.toMatch(/from\s+["']@portcullis\/client["']/);
      writeFileSync(
        join(project, "run-page.mjs"),
        `import { workspaces } from "./dist/page.js";
const list = await workspaces(process.env.PORTCULLIS_URL, process.env.PORTCULLIS_TOKEN);
console.log(JSON.stringify({ items: Array.isArray(list.items) }));
`,
      );
      const answer = await succeed("node", ["run-page.mjs"], project, {
        ...env,
        PORTCULLIS_URL: inject("portcullisUrl"),
        PORTCULLIS_TOKEN: E2E_ROOT_TOKEN,
      });
      expect(JSON.parse(answer)).toEqual({ items: true });
    },
    STEP_TIMEOUT_MS,
  );
});
