/**
 * Two isolates of Portcullis over real HTTP: two `wrangler dev` processes, each with its own
 * isolate and its own leases, deciding against the same Durable Objects and the same D1.
 *
 * - The first runs the project's wrangler.toml (script `portcullis`): it hosts the KeyGate and
 *   OwnerGate objects.
 * - The second runs a generated configuration (script `portcullis-second`) whose KEY_GATE,
 *   OWNER_GATE, USAGE_ROLLUP and WORKSPACE_CONTEXT bindings name script `portcullis`: through the dev registry its calls reach the
 *   first process's objects, as a second Cloudflare location would reach the one object of a key.
 * - Both use one `--persist-to` directory, so they read and write one local D1 database, and a
 *   private dev registry (`WRANGLER_REGISTRY_PATH`), so that no other `wrangler dev` on this
 *   machine named `portcullis` is found instead.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type DevServer, startWranglerDev } from "./wrangler-dev";

export interface IsolatePair {
  first: DevServer;
  second: DevServer;
  /** Kills the second process's `workerd` with SIGKILL: its isolate dies with whatever it held. */
  killSecondIsolate(): void;
  stop(): Promise<void>;
}

/** The second script's configuration: the first one's bindings, its objects named by script. */
function secondConfig(root: string): string {
  const path = (relative: string) => JSON.stringify(resolve(root, relative));
  return `name = "portcullis-second"
main = ${path("src/index.ts")}
compatibility_date = "2026-11-01"
compatibility_flags = ["nodejs_compat"]
send_metrics = false

[[d1_databases]]
binding = "DB"
database_name = "portcullis"
database_id = "00000000-0000-0000-0000-000000000000"
migrations_dir = ${path("migrations")}

[[durable_objects.bindings]]
name = "KEY_GATE"
class_name = "KeyGate"
script_name = "portcullis"

[[durable_objects.bindings]]
name = "OWNER_GATE"
class_name = "OwnerGate"
script_name = "portcullis"

[[durable_objects.bindings]]
name = "USAGE_ROLLUP"
class_name = "UsageRollup"
script_name = "portcullis"

[[durable_objects.bindings]]
name = "WORKSPACE_CONTEXT"
class_name = "WorkspaceContext"
script_name = "portcullis"

[[queues.producers]]
binding = "EVENTS"
queue = "portcullis-events"

[[ratelimits]]
name = "ABUSE_LIMITER"
namespace_id = "1001"
simple = { limit = 60, period = 60 }

[assets]
directory = ${path(".assets")}
binding = "ASSETS"
run_worker_first = true
`;
}

/** Process ids of `workerd` among the descendants of `pid`. */
function workerdUnder(pid: number): number[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,comm="], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((row) => row.length >= 3)
    .map(([child, parent, command]) => ({ pid: Number(child), ppid: Number(parent), command }));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const row of rows.filter((candidate) => candidate.ppid === parent)) {
      if (row.command === "workerd") found.push(row.pid);
      walk(row.pid);
    }
  };
  walk(pid);
  return found;
}

/** Starts the first `wrangler dev`, then the second bound to the first's objects. */
export async function startIsolatePair(vars: Record<string, string>): Promise<IsolatePair> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-pair-"));
  const persist = join(dir, "state");
  const env = { WRANGLER_REGISTRY_PATH: join(dir, "registry") };
  const config = join(dir, "second.toml");
  writeFileSync(config, secondConfig(process.cwd()));
  const first = await startWranglerDev({ vars, persist, env });
  let second: DevServer;
  try {
    second = await startWranglerDev({ vars, persist, env, config, migrate: false });
  } catch (error) {
    await first.stop();
    throw error;
  }
  return {
    first,
    second,
    killSecondIsolate() {
      const workerd = workerdUnder(second.pid);
      if (workerd.length === 0) throw new Error("the second wrangler dev runs no workerd");
      for (const pid of workerd) process.kill(pid, "SIGKILL");
    },
    async stop() {
      await Promise.all([second.stop(), first.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
