import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { ROOT_TOKEN, SESSION_SECRET, SIGNING_SECRET, TEST_POLICY } from "./test/fixtures/policy.ts";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      reporters: ["default", "json"],
      // Deliberate failures (a failing D1, a broken object) log errors: show a test's console
      // output only when that test fails.
      silent: "passed-only" as const,
      outputFile: { json: "test-results/vitest.json" },
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  POLICY: JSON.stringify(TEST_POLICY),
                  ADMIN_TOKEN: ROOT_TOKEN,
                  ORIGIN_SIGNING_SECRET: SIGNING_SECRET,
                  SESSION_SECRET,
                },
              },
            }),
          ],
          test: {
            name: "workers",
            // One runtime for all files: files share no state they rely on, and startup dominates.
            isolate: false,
            include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts", "test/security/**/*.test.ts"],
            exclude: ["test/security/**/*.e2e.test.ts"],
            setupFiles: ["test/worker/apply-migrations.ts"],
            // Bursts of hundreds of requests take seconds on a loaded machine (CI shares its cores).
            testTimeout: 30_000,
          },
        },
        {
          test: {
            name: "e2e",
            include: [
              "test/e2e/**/*.test.ts",
              "test/security/**/*.e2e.test.ts",
              "test/architecture/**/*.test.ts",
            ],
            environment: "node",
            globalSetup: ["test/e2e/global-setup.ts"],
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
        {
          test: {
            name: "docs",
            // The reference in docs/ and the local tools: plain Node, no Worker.
            include: ["test/docs/**/*.test.ts"],
            environment: "node",
            // Some regenerate a document with a child process: slow on a loaded machine.
            testTimeout: 60_000,
          },
        },
      ],
    },
  };
});
