/**
 * `npm run dev`: applies the D1 migrations to the local database, then serves Portcullis with
 * `wrangler dev` on http://localhost:8787 with a local admin token (override it with the
 * ADMIN_TOKEN environment variable). Extra arguments go to `wrangler dev`.
 */
import { spawn, spawnSync } from "node:child_process";

const token = process.env.ADMIN_TOKEN || "dev-admin-token";
const signingSecret = process.env.ORIGIN_SIGNING_SECRET || "dev-origin-signing-secret";

// CI=true makes wrangler apply without asking for confirmation.
const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

console.log(`
  Portcullis is starting on http://localhost:8787
  Local admin token (ADMIN_TOKEN): ${token}
  Try: curl -H "Authorization: Bearer ${token}" http://localhost:8787/_portcullis/admin/v1/workspaces
`);

const dev = spawn(
  "wrangler",
  [
    "dev",
    "--var",
    `ADMIN_TOKEN:${token}`,
    "--var",
    `ORIGIN_SIGNING_SECRET:${signingSecret}`,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
dev.on("exit", (code) => process.exit(code ?? 0));
