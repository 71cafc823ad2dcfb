/**
 * `npm run example -- NAME [--origin URL] [--once] [--portal] [wrangler dev arguments]`: serves the
 * example policy `examples/NAME.json` locally and runs its script `examples/NAME.sh` against it,
 * which shows allowed and denied requests. Then it keeps serving, for you to try more, until
 * Ctrl-C (with `--once` it stops after the script and exits with the script's status).
 *
 * With `--portal`, the policy gains the portal of `examples/portal/NAME.portal.json`, and a demo
 * provider dashboard embedding the keys element (examples/portal/server.mjs) is served on
 * http://localhost:5173 instead of running the script.
 *
 * The policy's `origin` is replaced by the built-in `echo` origin unless `--origin` names
 * another; the admin token (ADMIN_TOKEN, default `dev-admin-token`), the origin signing secret
 * and the session secret the policy names (`jwt.secretEnv`, default `dev-session-secret`) are
 * set, and passed to the script in the same environment variables. State lives in
 * `.wrangler/examples/NAME` unless `--persist-to` says otherwise.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DEMO, startProvider } from "../examples/portal/server.mjs";
import { devAddress, option, problemReport } from "./policy-source.ts";

const WRANGLER = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin/wrangler.js",
);
/** How long `wrangler dev` may take to answer its first request, ms. */
const START_TIMEOUT_MS = 90_000;

const [name, ...rest] = process.argv.slice(2);
const examples = readdirSync("examples")
  .filter((file) => file.endsWith(".json"))
  .map((file) => file.slice(0, -".json".length));
if (!examples.includes(name)) {
  console.error(`Usage: npm run example -- NAME [--origin URL] [--once]\nExamples: ${examples.join(", ")}`);
  process.exit(1);
}

const once = rest.includes("--once");
const withPortal = rest.includes("--portal");
const PORTAL_PORT = 5173;
const origin = option(rest, ["--origin"]) ?? "echo";
const persist = option(rest, ["--persist-to"]) ?? `.wrangler/examples/${name}`;
const devArgs = withoutOptions(rest, ["--origin", "--persist-to"]).filter(
  (arg) => arg !== "--once" && arg !== "--portal",
);

const policy = { ...JSON.parse(readFileSync(`examples/${name}.json`, "utf8")), origin };
if (withPortal) {
  const portals = readdirSync("examples/portal").filter((file) => file.endsWith(".portal.json"));
  if (!portals.includes(`${name}.portal.json`)) {
    console.error(
      `No portal for ${name}; examples with one: ${portals.map((file) => file.split(".")[0]).join(", ")}`,
    );
    process.exit(1);
  }
  policy.portal = JSON.parse(readFileSync(`examples/portal/${name}.portal.json`, "utf8"));
}
const problems = problemReport({ label: `examples/${name}.json`, raw: policy });
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}

const secrets = {
  ADMIN_TOKEN: process.env.ADMIN_TOKEN || "dev-admin-token",
  ORIGIN_SIGNING_SECRET: process.env.ORIGIN_SIGNING_SECRET || "dev-origin-signing-secret",
};
const sessionSecret = policy.jwt?.secretEnv;
if (sessionSecret) secrets[sessionSecret] = process.env[sessionSecret] || "dev-session-secret";
const portalSecret = policy.portal?.jwt?.secretEnv;
if (portalSecret) secrets[portalSecret] = process.env[portalSecret] || DEMO.secret;

const wranglerEnv = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };
const migrate = spawnSync(
  process.execPath,
  [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
  { stdio: ["ignore", "ignore", "inherit"], env: wranglerEnv },
);
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const address = devAddress(devArgs);
const vars = Object.entries({ POLICY: JSON.stringify(policy), ...secrets }).flatMap(([key, value]) => [
  "--var",
  `${key}:${value}`,
]);
const dev = spawn(
  process.execPath,
  [WRANGLER, "dev", "--persist-to", persist, "--show-interactive-dev-session=false", ...devArgs, ...vars],
  { stdio: ["ignore", "pipe", "pipe"], env: wranglerEnv },
);
// wrangler's own output is kept until the script has run (and shown if it fails), then streamed.
let devOutput = "";
let streaming = false;
for (const stream of [dev.stdout, dev.stderr]) {
  stream.on("data", (chunk) => {
    if (streaming) process.stdout.write(chunk);
    else devOutput += chunk;
  });
}
dev.on("exit", (code) => {
  if (!streaming) console.error(devOutput);
  process.exit(code ?? 1);
});
process.on("SIGINT", () => dev.kill("SIGTERM"));

const basePath = policy.basePath ?? "/_portcullis";
if (!(await healthy(`${address}${basePath}/health`))) {
  console.error(`wrangler dev did not answer in time:\n${devOutput}`);
  stop(1);
} else if (withPortal) {
  const provider = await startProvider({
    portcullis: address,
    port: PORTAL_PORT,
    secret: secrets[portalSecret],
  });
  console.log(`\n  Example ${name} with its portal on ${address} (origin: ${origin}).`);
  console.log(`  Open the provider's dashboard: ${provider.url} (sign in as a demo member)`);
  console.log(`  The hosted page: ${address}${basePath}/portal/ (opened from the dashboard)`);
  console.log(`  Admin token ${secrets.ADMIN_TOKEN}; Ctrl-C to stop.\n`);
  streaming = true;
  if (once) {
    await provider.close();
    stop(0);
  }
} else {
  console.log(`\n  Example ${name} on ${address} (origin: ${origin}); running examples/${name}.sh:\n`);
  const script = spawn("bash", [`examples/${name}.sh`], {
    stdio: "inherit",
    env: { ...process.env, PC: address, ...secrets },
  });
  const status = await new Promise((resolve) => script.on("exit", (code) => resolve(code ?? 1)));
  if (once || status !== 0) {
    if (status !== 0) console.error(devOutput);
    stop(status);
  } else {
    console.log(`\n  Still serving on ${address} with admin token ${secrets.ADMIN_TOKEN}; Ctrl-C to stop.\n`);
    streaming = true;
  }
}

/** Stops `wrangler dev` (which stops workerd), then exits with `status`. */
function stop(status) {
  if (dev.exitCode !== null) process.exit(status);
  dev.removeAllListeners("exit");
  dev.once("exit", () => process.exit(status));
  dev.kill("SIGTERM");
  setTimeout(() => dev.kill("SIGKILL"), 5_000).unref();
}

/** `list` without the named options and their values. */
function withoutOptions(list, names) {
  return list.filter(
    (arg, index) =>
      !names.some((n) => arg === n || arg.startsWith(`${n}=`)) && !names.includes(list[index - 1] ?? ""),
  );
}

/** Whether `url` answers before the start timeout. */
async function healthy(url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && dev.exitCode === null) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return false;
}
