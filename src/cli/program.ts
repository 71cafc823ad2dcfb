/**
 * The `portcullis` command line: its global options, its command groups, and how each way of
 * ending becomes an exit code (see errors.ts and docs/cli.md).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { registerAudit } from "./commands/audit.ts";
import { registerEvents } from "./commands/events.ts";
import { registerKeys } from "./commands/keys.ts";
import { registerOwners } from "./commands/owners.ts";
import { registerPortal } from "./commands/portal.ts";
import { registerRoles } from "./commands/roles.ts";
import { registerVerify } from "./commands/verify.ts";
import { registerWorkspaces } from "./commands/workspaces.ts";
import { EXIT, report } from "./errors.ts";

const EXIT_CODES_HELP = `
Environment: PORTCULLIS_URL, PORTCULLIS_TOKEN, PORTCULLIS_BASE_PATH (used when --url, --token,
--base-path are not given).
Exit codes: 0 ok, 1 the server answered with a problem, 2 usage error, 3 server unreachable,
4 an answer Portcullis does not give (a redirect, the wrong shape), 5 the CLI failed.`;

/**
 * The version of the nearest package.json above this module: the clone's for src/cli/, the
 * published package's for its bundled dist/ (docs/packages.md).
 */
function version(): string {
  for (let folder = dirname(fileURLToPath(import.meta.url)); ; folder = dirname(folder)) {
    const file = join(folder, "package.json");
    if (existsSync(file)) return String(JSON.parse(readFileSync(file, "utf8")).version);
    if (dirname(folder) === folder) return "unknown";
  }
}

export function buildProgram(): Command {
  // Settings made here, before any subcommand exists, are inherited by every subcommand.
  const program = new Command("portcullis")
    .description(
      "Administer a Portcullis deployment: workspaces, keys, owners, roles, audit log, events, verify; check the portal.",
    )
    .version(version())
    .option("--url <url>", "the deployment's origin, e.g. https://api.example.com [env: PORTCULLIS_URL]")
    .option("--token <token>", "the root token or an admin key (pc_admin_...) [env: PORTCULLIS_TOKEN]")
    .option(
      "--base-path <path>",
      "the policy's basePath, the prefix of Portcullis' endpoints (default /_portcullis) [env: PORTCULLIS_BASE_PATH]",
    )
    .option("--json", "print the server's JSON answer as it came")
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError()
    .exitOverride();
  program.addHelpText("after", EXIT_CODES_HELP);
  registerWorkspaces(program);
  registerKeys(program);
  registerOwners(program);
  registerRoles(program);
  registerAudit(program);
  registerEvents(program);
  registerVerify(program);
  registerPortal(program);
  return program;
}

/**
 * Runs one command line (without the `node` and script arguments) and answers its exit code; it
 * never throws, so no stack trace reaches the terminal.
 */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    return report(error, (text) => process.stderr.write(text));
  }
}
