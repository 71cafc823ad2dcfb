/**
 * The Worker's bindings are typed from wrangler.toml: worker-configuration.d.ts is what
 * `wrangler types` generates from it today (`npm run cf-typegen` rewrites it).
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

describe("worker-configuration.d.ts", () => {
  it("is current: `wrangler types --check` (run `npm run cf-typegen` if this fails)", () => {
    const args = ["types", "worker-configuration.d.ts", "--include-runtime=false", "--strict-vars=false"];
    const result = spawnSync(
      process.execPath,
      [WRANGLER, ...args, "--env-interface", "WranglerBindings", "--check"],
      {
        cwd: ROOT,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
        encoding: "utf8",
      },
    );
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  });
});
