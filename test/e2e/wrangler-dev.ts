/**
 * Starts Portcullis under `wrangler dev` exactly as docs/consistency.md says outside tests do: migrations
 * applied to a fresh `--persist-to` directory, the policy and secrets passed with `--var`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const WRANGLER = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
/** How long `wrangler dev` may take to answer its first request, ms. */
const START_TIMEOUT_MS = 90_000;

export interface DevServer {
  url: string;
  /** The port of the Worker's inspector (Chrome DevTools protocol), for profiling. */
  inspectorPort: number;
  /** The process id of `wrangler dev` (its `workerd` runs as a descendant). */
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function wranglerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", ...extra };
}

/** Runs a wrangler command to completion; throws with its output when it fails. */
export function wrangler(args: string[], cwd = process.cwd()): string {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd,
    env: wranglerEnv(),
    encoding: "utf8",
  });
  if (result.status !== 0)
    throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export interface DevOptions {
  vars: Record<string, string>;
  /** Wrangler configuration file; the project's wrangler.toml by default. */
  config?: string;
  /** State directory to reuse; a fresh temporary one (removed on stop) by default. */
  persist?: string;
  /** Apply the D1 migrations first (default true). */
  migrate?: boolean;
  /** SQL to run on the local D1 database before starting. */
  seed?: string;
  /** Environment variables for `wrangler dev` (e.g. `WRANGLER_REGISTRY_PATH`). */
  env?: Record<string, string>;
}

export async function startWranglerDev(options: DevOptions): Promise<DevServer> {
  const cwd = process.cwd();
  const persist = options.persist ?? mkdtempSync(join(tmpdir(), "portcullis-e2e-"));
  const config = options.config ? ["--config", options.config] : [];
  if (options.migrate ?? true)
    wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist, ...config]);
  if (options.seed)
    wrangler([
      "d1",
      "execute",
      "DB",
      "--local",
      "--persist-to",
      persist,
      ...config,
      "--command",
      options.seed,
    ]);

  const port = await freePort();
  const inspector = await freePort();
  const vars = Object.entries(options.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      ...config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--persist-to",
      persist,
      "--show-interactive-dev-session=false",
      ...vars,
    ],
    { cwd, env: wranglerEnv(options.env), stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    try {
      const response = await fetch(`${url}/_portcullis/health`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`wrangler dev did not start in time:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  return {
    url,
    inspectorPort: inspector,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (!options.persist) rmSync(persist, { recursive: true, force: true });
    },
  };
}
