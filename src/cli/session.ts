/**
 * What every command needs: the typed client for the deployment and credential of the command
 * line (flags first, then the environment), its answers checked, and how to print them. The
 * server is not trusted (docs/cli.md#what-the-cli-trusts): a redirect is refused, an answer is
 * checked against its shape before anything is printed, and what is printed is terminal-safe.
 */
import type { Command } from "commander";
import type { z } from "zod";
import { BASE_PATH, createClient, DEFAULT_BASE_PATH, type PortcullisClient } from "../client/index.ts";
import { createPortalClient, type PortalClient } from "../client/portal.ts";
import { BadAnswerError, UnreachableError, UsageError } from "./errors.ts";
import { jsonText, redactUrl, terminalSafe } from "./format.ts";

/** How long one request may take before the CLI gives up (exit 3). */
const REQUEST_TIMEOUT_MS = 30_000;
/** At most this much of a redirect's target is quoted. */
const QUOTED_LOCATION_LENGTH = 200;
/** A bearer token as the server reads one: printable ASCII, no space, no comma. */
const TOKEN = /^[\x21-\x2b\x2d-\x7e]+$/;

export interface GlobalOptions {
  url?: string;
  token?: string;
  basePath?: string;
  json?: boolean;
}

export interface Session {
  api: PortcullisClient;
  /** `--json`: print the server's answer as it came. */
  json: boolean;
}

/**
 * The deployment's origin, checked here so that a typo is a usage error, not a network one. A
 * user name or password in it is refused, not stripped: it is no Portcullis credential, and the
 * CLI neither sends it nor prints it (messages show the URL with it hidden).
 */
function originOf(url: string | undefined): string {
  if (!url) throw new UsageError("no server: pass --url or set PORTCULLIS_URL (e.g. http://localhost:8787).");
  const shown = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: "${shown}".`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new UsageError(
      `--url holds a user name or password ("${shown}"), which the CLI refuses: give the origin alone, and the credential with --token or PORTCULLIS_TOKEN.`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--url must be http:// or https://, got "${shown}".`);
  }
  return url;
}

/** The credential, checked so that a bad one is a usage error that does not show it. */
function tokenOf(token: string | undefined): string {
  if (!token)
    throw new UsageError("no credential: pass --token or set PORTCULLIS_TOKEN (root token or admin key).");
  if (!TOKEN.test(token)) {
    throw new UsageError(
      "the token (--token or PORTCULLIS_TOKEN) is malformed: a token is printable ASCII without spaces or commas. It is not shown here.",
    );
  }
  return token;
}

/** The policy's `basePath`, checked as the policy checks it so that a typo is a usage error. */
function basePathOf(basePath: string | undefined): string {
  if (basePath === undefined || basePath === "") return DEFAULT_BASE_PATH;
  if (!BASE_PATH.test(basePath)) {
    throw new UsageError(
      `--base-path (or PORTCULLIS_BASE_PATH) must be the policy's basePath, /segment[/segment...] of letters, digits and . _ ~ -, got "${basePath}".`,
    );
  }
  return basePath;
}

/**
 * One request, as the client sends it: no redirect followed (the credential goes to `--url`
 * and nowhere else), and a 2xx body read whole and required to be JSON, or empty.
 */
async function send(url: string, request: Request): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(request, { redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new UnreachableError(url, error);
  }
  const { status, statusText } = response;
  if (status >= 300 && status < 400) {
    await response.body?.cancel();
    const location = response.headers.get("location");
    const target =
      location === null ? "" : ` to "${terminalSafe(redactUrl(location)).slice(0, QUOTED_LOCATION_LENGTH)}"`;
    throw new BadAnswerError(
      `the server answered HTTP ${status}, a redirect${target}; redirects are refused, so nothing was sent there. Give the deployment's own URL with --url.`,
    );
  }
  if (!response.ok || status === 204) return response;
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    throw new UnreachableError(url, error);
  }
  const headers = new Headers(response.headers);
  if (body === "") {
    // The client reads an empty answer as no data only when it says its length.
    headers.set("content-length", "0");
    return new Response(null, { status, statusText, headers });
  }
  try {
    JSON.parse(body);
  } catch {
    throw new BadAnswerError(
      `the server's answer (HTTP ${status}) is not JSON, so not what Portcullis answers; the request's outcome is unknown. Is --url a Portcullis deployment?`,
    );
  }
  return new Response(body, { status, statusText, headers });
}

export function sessionOf(command: Command): Session {
  const options = command.optsWithGlobals<GlobalOptions>();
  const baseUrl = originOf(options.url ?? process.env.PORTCULLIS_URL);
  const token = tokenOf(options.token ?? process.env.PORTCULLIS_TOKEN);
  const basePath = basePathOf(options.basePath ?? process.env.PORTCULLIS_BASE_PATH);
  return {
    api: createClient({ baseUrl, basePath, token, fetch: (request) => send(baseUrl, request) }),
    json: options.json === true,
  };
}

/**
 * The portal client for the deployment of the command line, as the member whose provider token
 * is `memberToken` (not the admin credential): the same checks, and no redirect followed.
 */
export function portalSessionOf(
  command: Command,
  memberToken: string,
): { portal: PortalClient; json: boolean } {
  const options = command.optsWithGlobals<GlobalOptions>();
  const baseUrl = originOf(options.url ?? process.env.PORTCULLIS_URL);
  const basePath = basePathOf(options.basePath ?? process.env.PORTCULLIS_BASE_PATH);
  if (!TOKEN.test(memberToken)) {
    throw new UsageError(
      "the member's token is malformed: a token is printable ASCII without spaces or commas. It is not shown here.",
    );
  }
  return {
    portal: createPortalClient({
      baseUrl,
      basePath,
      getToken: () => memberToken,
      fetch: (request) => send(baseUrl, request),
    }),
    json: options.json === true,
  };
}

/**
 * The operation's answer once it has the shape `schema` says, as it came (so `--json` prints it
 * unchanged); any other answer is an error and nothing is printed as done.
 */
export async function checked<T>(schema: z.ZodType<T>, answer: Promise<unknown>): Promise<T> {
  const value = await answer;
  const result = schema.safeParse(value);
  if (result.success) return value as T;
  const issue = result.error.issues[0];
  const where =
    issue === undefined || issue.path.length === 0 ? "" : ` (at ${issue.path.map(String).join(".")})`;
  throw new BadAnswerError(
    `the server's answer is not what Portcullis answers to this request${where}: ${issue?.message ?? "wrong shape"}. The request's outcome is unknown. Is --url a Portcullis deployment?`,
  );
}

/** One line on stdout, terminal-safe. */
export function printLine(line: string): void {
  process.stdout.write(`${terminalSafe(line)}\n`);
}

/** Prints the answer: as JSON with `--json`, else as the command's text. */
export function print<T>(session: Pick<Session, "json">, answer: T, asText: (answer: T) => string): void {
  if (session.json) process.stdout.write(`${jsonText(answer)}\n`);
  else printLine(asText(answer));
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
