/**
 * The reference in docs/ stands alone and matches the code: the generated parts are current,
 * every error code and admin permission is documented, every link leads to a file of the
 * repository, and nothing points outside it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generatedDocs } from "../../scripts/docs.ts";
import { ADMIN_PERMISSIONS } from "../../src/keys/admin-permissions.ts";
import { REFUSALS as PROBLEMS } from "../../src/refusals.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** The Markdown a newcomer reads: the README, every page of docs/ and the examples' README. */
const PAGES = [
  "README.md",
  "examples/README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/${file}`),
];

describe("docs", () => {
  it("has the pages of the reference", () => {
    for (const page of ["policy", "decisions", "headers", "admin-api", "consistency"]) {
      expect(PAGES, page).toContain(`docs/${page}.md`);
    }
  });

  it("are current: regenerating them changes nothing (run `npm run docs` if this fails)", () => {
    for (const [path, content] of Object.entries(generatedDocs())) {
      if (path.endsWith(".json")) expect(JSON.parse(read(path)), path).toEqual(JSON.parse(content));
      else expect(read(path), path).toBe(content);
    }
  });

  it("list every error code in decisions.md, with its status", () => {
    const decisions = read("docs/decisions.md");
    for (const [code, [status]] of Object.entries(PROBLEMS)) {
      expect(decisions, code).toContain(`| \`${code}\` | ${status} |`);
    }
  });

  it("list every admin permission in admin-api.md", () => {
    const adminApi = read("docs/admin-api.md");
    for (const permission of ADMIN_PERMISSIONS) expect(adminApi, permission).toContain(`\`${permission}\``);
  });

  it("list every admin route of the OpenAPI document in admin-api.md's route table", () => {
    const adminApi = read("docs/admin-api.md");
    const document = JSON.parse(read("docs/openapi.json")) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(document.paths)
      .filter(([path]) => path.startsWith("/admin/v1/"))
      .flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((method) => ["get", "post", "put", "patch", "delete"].includes(method))
          .map(
            (method) =>
              `${method.toUpperCase()} ${path.slice("/admin/v1".length).replace(/\{(\w+)\}/g, ":$1")}`,
          ),
      );
    expect(routes.length).toBeGreaterThan(20);
    const rows = adminApi.split("\n").filter((line) => line.startsWith("| `"));
    const missing = routes.filter(
      (route) => !rows.some((row) => row.startsWith(`| \`${route}\``) || row.startsWith(`| \`${route}?`)),
    );
    expect(missing).toEqual([]);
  });

  it.each(PAGES)("%s links only to files that exist", (page) => {
    const links = [...read(page).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? "");
    const broken = links
      .filter((link) => !/^(https?:|mailto:|#)/.test(link))
      .filter((link) => !existsSync(resolve(ROOT, dirname(page), link.split("#")[0] ?? "")));
    expect(broken).toEqual([]);
  });

  it.each(PAGES)("%s points nowhere outside the repository", (page) => {
    const outside = (line: string) => /\bSPEC \d|SPEC\.md|\/work\/|\bshared\/|\bseeds\b/.test(line);
    expect(read(page).split("\n").filter(outside)).toEqual([]);
  });

  it("code comments cite docs/ pages, never the contract's sections or files outside the repository", () => {
    const cites = /\bSPEC \d|SPEC\.md|\.\.\/shared\//;
    const offending = SOURCE_DIRS.flatMap((dir) => sourceFilesOf(join(ROOT, dir))).flatMap((file) =>
      read(file)
        .split("\n")
        .map((line, index) => `${file}:${index + 1}: ${line.trim()}`)
        .filter((line) => cites.test(line.slice(line.indexOf(": ") + 2))),
    );
    expect(offending).toEqual([]);
  });
});

/** Where code and its comments live: every folder a reader of the source opens. */
const SOURCE_DIRS = ["src", "test", "bench", "scripts", "console", "examples"];

function sourceFilesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFilesOf(path);
    return /\.(ts|mjs|js|sh|toml)$/.test(entry.name) && !entry.name.endsWith(".d.ts")
      ? [path.slice(ROOT.length + 1)]
      : [];
  });
}
