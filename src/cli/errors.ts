/**
 * How the CLI ends: its exit codes and the errors that choose them. A refusal of the server is
 * a `PortcullisError` (from the client); the two below are the CLI's own.
 */

export const EXIT = {
  ok: 0,
  /** The server answered with a problem. */
  problem: 1,
  /** The command line is wrong: an unknown flag, a missing argument, a bad value, no URL or token. */
  usage: 2,
  /** No answer: the server is unreachable, or did not answer in time. */
  unreachable: 3,
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
