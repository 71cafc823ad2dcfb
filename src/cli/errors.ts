/**
 * How the CLI ends: its exit codes, the errors that choose them, and how each is reported. A
 * refusal of the server is a `PortcullisError` (from the client); the others are the CLI's own.
 * No report prints a credential, a URL's password or a server's control characters, and none
 * prints a stack trace (docs/cli.md#output-and-exit-codes).
 */
import { CommanderError } from "commander";
import { PortcullisError } from "../client/index.ts";
import { ProblemAnswer } from "./answers.ts";
import { problemText, terminalSafe, text } from "./format.ts";

export const EXIT = {
  ok: 0,
  /** The server answered with a problem. */
  problem: 1,
  /** The command line is wrong: an unknown flag, a missing argument, a bad value, no URL or token. */
  usage: 2,
  /** No answer: the server is unreachable, or did not answer in time. */
  unreachable: 3,
  /** An answer that is not one Portcullis gives: a redirect, a 2xx not of the expected shape. */
  badAnswer: 4,
  /** The CLI itself failed: a bug, reported without its details (they may hold a secret). */
  internal: 5,
} as const;

/** A command line that cannot be run as written (exit 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The request never got an answer (exit 3). */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";

  constructor(url: string, cause: unknown) {
    super(`cannot reach ${url}: ${reasonOf(cause)}`, { cause });
  }
}

/** The server answered that what was asked for does not exist, without a problem (exit 1). */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

/** An answer the CLI does not trust, so prints no success for (exit 4). */
export class BadAnswerError extends Error {
  override readonly name = "BadAnswerError";
}

/** The most telling part of a fetch failure: undici hides the system error in `cause`. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "no answer in time";
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" ? `${code} (${cause.message})` : cause.message;
  }
  return error.message;
}

/** The problem as printed; one not of a problem's shape is named by its status only. */
function problemReport(error: PortcullisError): string {
  const problem = ProblemAnswer.safeParse(error.problem);
  if (problem.success) return problemText(problem.data);
  return `error: the server refused (HTTP ${text(error.problem.status)}) with an answer that is not a Portcullis problem`;
}

/** Reports how a run failed through `write` (stderr) and answers its exit code. */
export function report(error: unknown, write: (text: string) => void): number {
  const line = (message: string) => write(`${terminalSafe(message)}\n`);
  // Commander has printed its own message (or the help, for --help and --version).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof PortcullisError) {
    line(problemReport(error));
    return EXIT.problem;
  }
  if (error instanceof NotFoundError) {
    line(`error: ${error.message}`);
    return EXIT.problem;
  }
  if (error instanceof UsageError) {
    line(`error: ${error.message}\n(see --help)`);
    return EXIT.usage;
  }
  if (error instanceof UnreachableError) {
    line(`error: ${error.message}`);
    return EXIT.unreachable;
  }
  if (error instanceof BadAnswerError) {
    line(`error: ${error.message}`);
    return EXIT.badAnswer;
  }
  // Not one of ours: its message may quote a header, a URL or a token, so only its kind is named.
  const kind = error instanceof Error ? text(error.name) : typeof error;
  line(`error: the CLI failed unexpectedly (${kind}); its details are not shown, as they may hold a secret.`);
  return EXIT.internal;
}
