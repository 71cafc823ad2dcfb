/**
 * What every command needs: the typed client for the deployment and credential of the command
 * line (flags first, then the environment), and how to print its answer.
 */
import type { Command } from "commander";
import { createClient, type PortcullisClient } from "../client/index.ts";
import { UnreachableError, UsageError } from "./errors.ts";

/** How long one request may take before the CLI gives up (exit 3). */
const REQUEST_TIMEOUT_MS = 30_000;

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export interface Session {
  api: PortcullisClient;
  /** `--json`: print the server's answer as it came. */
  json: boolean;
}

/** The deployment's origin, checked here so that a typo is a usage error, not a network one. */
function originOf(url: string | undefined): string {
  if (!url) throw new UsageError("no server: pass --url or set PORTCULLIS_URL (e.g. http://localhost:8787).");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: "${url}".`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--url must be http:// or https://, got "${url}".`);
  }
  return url;
}

export function sessionOf(command: Command): Session {
  const options = command.optsWithGlobals<GlobalOptions>();
  const baseUrl = originOf(options.url ?? process.env.PORTCULLIS_URL);
  const token = options.token ?? process.env.PORTCULLIS_TOKEN;
  if (!token)
    throw new UsageError("no credential: pass --token or set PORTCULLIS_TOKEN (root token or admin key).");
  const fetchOrUnreachable = (request: Request) =>
    fetch(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch((error: unknown) => {
      throw new UnreachableError(baseUrl, error);
    });
  return { api: createClient({ baseUrl, token, fetch: fetchOrUnreachable }), json: options.json === true };
}

/** Prints the answer: as JSON with `--json`, else as the command's text. */
export function print<T>(session: Session, answer: T, asText: (answer: T) => string): void {
  process.stdout.write(`${session.json ? JSON.stringify(answer, null, 2) : asText(answer)}\n`);
}

/** A secret argument, or standard input's first line for `-` (keeps keys out of shell history). */
export async function secretArgument(value: string): Promise<string> {
  if (value !== "-") return value;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0]?.trim() ?? "";
  if (line === "") throw new UsageError("expected the key on standard input.");
  return line;
}
