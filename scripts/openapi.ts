/**
 * `npm run openapi`: writes docs/openapi.json, the OpenAPI 3.1 document of every surface, as a
 * deployment with the default base path serves it at `/_portcullis/admin/v1/openapi.json`.
 * test/docs/openapi.test.ts fails when the file is stale, and lints it with Redocly.
 *
 * src/ imports its modules without extensions and uses TypeScript syntax that type stripping
 * does not cover, so run it with `node --experimental-transform-types` and the resolve hook
 * of resolve-ts.ts (the npm script does).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import "./resolve-ts.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const OPENAPI_PATH = join(ROOT, "docs/openapi.json");

/** The smallest valid policy: the document depends only on the base path, here the default. */
const POLICY = { keyTypes: { server: { prefix: "sk_live" } }, routes: [] };

/** The document, as the Worker serves it. */
export async function openApiJson(): Promise<string> {
  const { appFor } = await import("../src/app.ts");
  const response = await appFor(JSON.stringify(POLICY)).request("/_portcullis/admin/v1/openapi.json");
  if (response.status !== 200) throw new Error(`the document answered ${response.status}`);
  return `${JSON.stringify(await response.json(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(OPENAPI_PATH, await openApiJson());
  // Laid out as Biome lays out JSON, so that `biome check` passes; the test compares values.
  const format = spawnSync("biome", ["format", "--write", OPENAPI_PATH], { stdio: "inherit" });
  if (format.status !== 0) process.exit(format.status ?? 1);
  console.log(`wrote ${OPENAPI_PATH}`);
}
