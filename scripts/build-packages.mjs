/**
 * `npm run build:packages`: builds the published packages of packages/ (docs/packages.md) from
 * the sources of src/, into each package's dist/ (ignored by git, like its copied LICENSE):
 *
 *   packages/client  @portcullis/client  src/client/index.ts, ESM for any runtime + .d.ts
 *   packages/cli     portcullis          src/cli/main.ts (the bin) and src/cli/index.ts (`run`),
 *                                        ESM for Node 20+, its dependencies bundled except the
 *                                        client, which it imports as @portcullis/client
 *
 * JavaScript by esbuild, declarations by the project's tsc (`nodenext`, as a consumer reads
 * them). A package is one entry of PACKAGES: its folder, its esbuild entries and options, and
 * the declarations it ships. Each package's version must be the clone's (package.json), and a
 * dependency on another package of packages/ names that exact version.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TSC = join(ROOT, "node_modules/.bin/tsc");
const CLIENT_SOURCE = join(ROOT, "src/client/index.ts");

/** The CLI's imports of the client's source become imports of the published client. */
const clientAsPackage = {
  name: "client-as-package",
  setup(esbuild) {
    esbuild.onResolve({ filter: /\/client\/index\.ts$/ }, (args) =>
      resolve(args.resolveDir, args.path) === CLIENT_SOURCE
        ? { path: "@portcullis/client", external: true }
        : undefined,
    );
  },
};

/**
 * Each package: `esbuild` its build options (entry points by output name, relative to the
 * root), `declarations` [source, shipped name] pairs, whose emitted .d.ts files must stand
 * alone unless `standalone` is false, and `copy` [source, shipped name] pairs copied as they are.
 */
const PACKAGES = [
  {
    folder: "client",
    esbuild: {
      entryPoints: { index: "src/client/index.ts" },
      platform: "neutral",
      target: "es2022",
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
      packages: "external",
    },
    declarations: [["src/client/index.ts", "index.d.ts"]],
    standalone: false,
    copy: [["src/client/schema.d.ts", "schema.d.ts"]],
  },
  {
    folder: "cli",
    esbuild: {
      entryPoints: { bin: "src/cli/main.ts", index: "src/cli/index.ts" },
      platform: "node",
      target: "node20",
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
      plugins: [clientAsPackage],
    },
    declarations: [["src/cli/index.ts", "index.d.ts"]],
    standalone: true,
    copy: [],
  },
];

const rootManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

function manifestOf(folder) {
  return JSON.parse(readFileSync(join(ROOT, "packages", folder, "package.json"), "utf8"));
}

/** Every package carries the clone's version, and names that version of its siblings. */
function checkVersions() {
  const names = new Set(PACKAGES.map(({ folder }) => manifestOf(folder).name));
  for (const { folder } of PACKAGES) {
    const manifest = manifestOf(folder);
    if (manifest.version !== rootManifest.version)
      throw new Error(
        `packages/${folder}: version ${manifest.version}, the clone's is ${rootManifest.version}`,
      );
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      if (names.has(name) && range !== rootManifest.version)
        throw new Error(`packages/${folder}: ${name} must be "${rootManifest.version}", not "${range}"`);
    }
  }
}

/** The .d.ts of each source, as tsc emits them for a `nodenext` consumer, into `out`. */
function emitDeclarations(sources, out) {
  const config = join(out, "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2023", "DOM"],
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules/@types")],
        strict: true,
        noUncheckedIndexedAccess: true,
        allowImportingTsExtensions: true,
        declaration: true,
        emitDeclarationOnly: true,
        skipLibCheck: true,
        rootDir: join(ROOT, "src"),
        outDir: join(out, "types"),
      },
      files: sources.map((source) => join(ROOT, source)),
    }),
  );
  const result = spawnSync(TSC, ["-p", config], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`);
  return (source) =>
    join(out, "types", relative(join(ROOT, "src"), join(ROOT, source)).replace(/\.ts$/, ".d.ts"));
}

/** The licenses of the third-party code a bundle holds, from the bundle's metafile. */
function thirdPartyNotices(metafile) {
  const folders = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) folders.add(resolve(ROOT, match[1]));
  }
  return [...folders]
    .sort()
    .map((folder) => {
      const { name, version, license } = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
      const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].find((candidate) =>
        existsSync(join(folder, candidate)),
      );
      const text = file ? readFileSync(join(folder, file), "utf8").trim() : `License: ${license}`;
      return `${name}@${version} (${license})\n\n${text}\n`;
    })
    .join(`\n${"-".repeat(72)}\n\n`);
}

async function buildPackage(pkg, declarationOf) {
  const directory = join(ROOT, "packages", pkg.folder);
  const dist = join(directory, "dist");
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const { metafile } = await build({
    absWorkingDir: ROOT,
    bundle: true,
    format: "esm",
    outdir: dist,
    metafile: true,
    logLevel: "warning",
    ...pkg.esbuild,
  });
  const notices = thirdPartyNotices(metafile);
  if (notices) writeFileSync(join(dist, "THIRD-PARTY-LICENSES.txt"), notices);
  for (const [source, name] of pkg.declarations) {
    const declaration = readFileSync(declarationOf(source), "utf8");
    if (pkg.standalone && /^\s*(import|export .* from)\b/m.test(declaration))
      throw new Error(`${source}: its declaration must name nothing else, but reads:\n${declaration}`);
    writeFileSync(join(dist, name), declaration);
  }
  for (const [source, name] of pkg.copy) copyFileSync(join(ROOT, source), join(dist, name));
  copyFileSync(join(ROOT, "LICENSE"), join(directory, "LICENSE"));
  const files = Object.keys(metafile.outputs).map((output) => relative(directory, resolve(ROOT, output)));
  console.log(`packages/${pkg.folder} (${manifestOf(pkg.folder).name}): ${files.join(", ")}`);
}

checkVersions();
const scratch = mkdtempSync(join(tmpdir(), "portcullis-declarations-"));
try {
  const declarationOf = emitDeclarations(
    PACKAGES.flatMap((pkg) => pkg.declarations.map(([source]) => source)),
    scratch,
  );
  for (const pkg of PACKAGES) await buildPackage(pkg, declarationOf);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`packages: ${PACKAGES.length} built; \`npm pack\` in a folder of packages/ makes its tarball`);
