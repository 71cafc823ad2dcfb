/**
 * The `portcullis` command line: its global options, its command groups, and how each way of
 * ending becomes an exit code (see errors.ts and docs/cli.md).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { PortcullisError } from "../client/index.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerKeys } from "./commands/keys.ts";
import { registerRoles } from "./commands/roles.ts";
import { registerVerify } from "./commands/verify.ts";
import { registerWorkspaces } from "./commands/workspaces.ts";
import { EXIT, UnreachableError, UsageError } from "./errors.ts";
import { problemText } from "./format.ts";

const EXIT_CODES_HELP = `
Environment: PORTCULLIS_URL, PORTCULLIS_TOKEN (used when --url, --token are not given).
Exit codes: 0 ok, 1 the server answered with a problem, 2 usage error, 3 server unreachable.`;

/** The package's version, read beside the sources as the clone holds them. */
function version(): string {
  const packageJson = JSON.parse(
    readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../package.json"), "utf8"),
  );
  return String(packageJson.version);
}

export function buildProgram(): Command {
  // Settings made here, before any subcommand exists, are inherited by every subcommand.
  const program = new Command("portcullis")
    .description("Administer a Portcullis deployment: workspaces, keys, roles, audit log, verify.")
    .version(version())
    .option("--url <url>", "the deployment's origin, e.g. https://api.example.com [env: PORTCULLIS_URL]")
    .option("--token <token>", "the root token or an admin key (pc_admin_...) [env: PORTCULLIS_TOKEN]")
    .option("--json", "print the server's JSON answer as it came")
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError()
    .exitOverride();
  program.addHelpText("after", EXIT_CODES_HELP);
  registerWorkspaces(program);
  registerKeys(program);
  registerRoles(program);
  registerAudit(program);
  registerVerify(program);
  return program;
}

/** Reports how a run failed on stderr and answers its exit code. */
function failure(error: unknown): number {
  // Commander has printed its own message (or the help, for --help and --version).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof PortcullisError) {
    process.stderr.write(`${problemText(error.problem)}\n`);
    return EXIT.problem;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n(see --help)\n`);
    return EXIT.usage;
  }
  if (error instanceof UnreachableError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT.unreachable;
  }
  throw error;
}

/** Runs one command line (without the `node` and script arguments) and answers its exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    return failure(error);
  }
}
