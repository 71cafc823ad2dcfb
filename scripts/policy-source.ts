/**
 * Where the local tools find a policy, and how they report its problems: `npm run policy:check`,
 * `npm run dev` and `npm run example` check a policy the way the Worker does (src/policy/load.ts)
 * before anything starts, and list every problem at once.
 */
import { readFileSync } from "node:fs";
import { type PolicyProblem, policyProblems } from "../src/policy/load.ts";

/** A policy to check: the raw value (JSON text or an object from TOML) and where it came from. */
export interface PolicySource {
  label: string;
  raw: unknown;
}

/** The value of `--name VALUE` or `--name=VALUE` (or of a short alias), the last one given. */
export function option(args: readonly string[], names: readonly string[]): string | undefined {
  let value: string | undefined;
  args.forEach((arg, index) => {
    for (const name of names) {
      if (arg === name) value = args[index + 1];
      else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
    }
  });
  return value;
}

/** `[vars.POLICY]` of a wrangler configuration, read by wrangler itself (TOML, JSON or JSONC). */
export async function configPolicy(config: string, env?: string): Promise<PolicySource> {
  const { unstable_readConfig } = await import("wrangler");
  const read = unstable_readConfig({ config, env }, { hideWarnings: true });
  const section = env ? `[env.${env}.vars.POLICY]` : "[vars.POLICY]";
  return { label: `${section} of ${config}`, raw: read.vars.POLICY };
}

/** The policy in a file: a JSON policy, or the `[vars.POLICY]` of a wrangler configuration. */
export async function filePolicy(path: string): Promise<PolicySource> {
  if (/\.(toml|jsonc)$/.test(path) || /wrangler\.json$/.test(path)) return configPolicy(path);
  return { label: path, raw: readFileSync(path, "utf8") };
}

/**
 * The policy `wrangler dev` will run with these arguments: a `--var POLICY:...` argument, else
 * the POLICY environment variable, else `[vars.POLICY]` of the configuration (`--config`, `--env`).
 */
export async function devPolicy(args: readonly string[], env: NodeJS.ProcessEnv): Promise<PolicySource> {
  const fromArgs = args
    .flatMap((arg, index) =>
      arg === "--var" ? [args[index + 1] ?? ""] : arg.startsWith("--var=") ? [arg.slice(6)] : [],
    )
    .filter((value) => value.startsWith("POLICY:"))
    .at(-1);
  if (fromArgs !== undefined) return { label: "--var POLICY", raw: fromArgs.slice("POLICY:".length) };
  if (env.POLICY) return { label: "the POLICY environment variable", raw: env.POLICY };
  return configPolicy(option(args, ["--config", "-c"]) ?? "wrangler.toml", option(args, ["--env", "-e"]));
}

/** The problems of a policy as lines for a terminal; empty when it is valid. */
export function problemReport(source: PolicySource): string[] {
  const problems: PolicyProblem[] = policyProblems(source.raw);
  if (problems.length === 0) return [];
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return [
    `${source.label}: ${count}`,
    ...problems.map((problem) => `  ${problem.field}: ${problem.message}`),
  ];
}

/** The address `wrangler dev` will listen on with these arguments (its defaults: localhost:8787). */
export function devAddress(args: readonly string[]): string {
  const ip = option(args, ["--ip"]);
  const host = !ip || ip === "0.0.0.0" ? "localhost" : ip.includes(":") ? `[${ip}]` : ip;
  return `http://${host}:${option(args, ["--port"]) ?? "8787"}`;
}
