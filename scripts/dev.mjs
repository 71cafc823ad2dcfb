/**
 * `npm run dev`: checks the policy, applies the D1 migrations to the local database, then serves
 * Portcullis with `wrangler dev` (http://localhost:8787 unless `--port` or `--ip` say otherwise)
 * with a local admin token (override it with the ADMIN_TOKEN environment variable). Extra
 * arguments go to `wrangler dev`.
 *
 * The policy is `[vars.POLICY]` of wrangler.toml, or the POLICY environment variable, or a
 * `--var POLICY:...` argument. An invalid one stops here with every problem listed, instead of
 * a server that answers every request 500 `policy_invalid`. The policy checked is passed to
 * `wrangler dev` explicitly, so that it is the one that runs.
 */
import { spawn, spawnSync } from "node:child_process";
import { devAddress, devPolicy, problemReport } from "./policy-source.ts";

const args = process.argv.slice(2);
const token = process.env.ADMIN_TOKEN || "dev-admin-token";
const signingSecret = process.env.ORIGIN_SIGNING_SECRET || "dev-origin-signing-secret";

const policy = await devPolicy(args, process.env);
const problems = problemReport(policy);
if (problems.length > 0) {
  console.error(`The policy is invalid; fix it and start again.\n${problems.join("\n")}`);
  process.exit(1);
}
const policyJson = typeof policy.raw === "string" ? policy.raw : JSON.stringify(policy.raw);

// CI=true makes wrangler apply without asking for confirmation.
const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", ...databaseArgs(args)], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const address = devAddress(args);
console.log(`
  Portcullis is starting on ${address}
  Policy: ${policy.label}
  Local admin token (ADMIN_TOKEN): ${token}
  Try: curl -H "Authorization: Bearer ${token}" ${address}/_portcullis/admin/v1/workspaces
`);

const dev = spawn(
  "wrangler",
  [
    "dev",
    "--var",
    `ADMIN_TOKEN:${token}`,
    "--var",
    `ORIGIN_SIGNING_SECRET:${signingSecret}`,
    ...args,
    "--var",
    `POLICY:${policyJson}`,
  ],
  { stdio: "inherit" },
);
dev.on("exit", (code) => process.exit(code ?? 0));

/** The arguments that say which local database `wrangler dev` uses, for the migrations. */
function databaseArgs(list) {
  const names = ["--persist-to", "--config", "-c", "--env", "-e"];
  return list.flatMap((arg, index) => {
    if (names.includes(arg)) return [arg, list[index + 1] ?? ""];
    return names.some((name) => arg.startsWith(`${name}=`)) ? [arg] : [];
  });
}
