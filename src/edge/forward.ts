/**
 * Forwarding an allowed request to the origin (docs/headers.md). Bodies stream both ways; the origin gets
 * the normalised path, the query, the identity headers and the `X-Forwarded-*` headers, never
 * a credential in any configured source (unless `hideCredentials = false`), on public routes
 * too, nor an inbound `X-Portcullis-*` header.
 */

import { logEvent } from "../log";
import type { CredentialSource } from "../policy/schema";
import { Refusal } from "../refusals";
import { removeCredential } from "./credential";
import { echo } from "./echo";
import { RESERVED_HEADER_PREFIX } from "./identity";

export interface OriginRequest {
  /** The inbound request: method, headers and body. */
  inbound: Request;
  /** The normalised path that was matched. */
  path: string;
  /** The raw inbound query string, without `?`. */
  rawQuery: string;
  /** Credential sources to remove: every one the policy names, or none when `hideCredentials = false`. */
  credentialSources: readonly CredentialSource[];
  /** Headers Portcullis adds: identity, assertion, request id, `X-Forwarded-*`. */
  added: Record<string, string>;
}

/**
 * Inbound headers never passed on: the host (the origin's own is used), every header that
 * claims the client's address, which only Portcullis states (`X-Forwarded-For`), and every
 * header some servers read as the request's real path or host: an origin reading one of them
 * would believe the client instead of the decision.
 */
const NOT_FORWARDED = new Set([
  "host",
  // The client's address: only Portcullis states it.
  "x-forwarded-for",
  "x-real-ip",
  "forwarded",
  "forwarded-for",
  "x-forwarded",
  "true-client-ip",
  "client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "x-original-forwarded-for",
  "fastly-client-ip",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "x-proxyuser-ip",
  "x-envoy-external-address",
  "cf-connecting-ipv6",
  // A path, host or prefix other than the one decided on, which some servers honour.
  "x-original-url",
  "x-rewrite-url",
  "x-host",
  "x-forwarded-server",
  "x-forwarded-prefix",
  "x-forwarded-port",
]);

/**
 * Builds the headers and query the origin receives: one native copy of the inbound headers, then
 * a delete for each of the few that are not passed on, instead of an append for each one that is.
 */
function prepare(request: OriginRequest): { headers: Headers; query: string } {
  const headers = new Headers(request.inbound.headers);
  request.inbound.headers.forEach((_value, name) => {
    if (name.startsWith(RESERVED_HEADER_PREFIX) || NOT_FORWARDED.has(name)) headers.delete(name);
  });
  const query = removeCredential(request.credentialSources, headers, request.rawQuery);
  for (const name in request.added) headers.set(name, request.added[name] as string);
  return { headers, query };
}

/** The origin's URL for a normalised path and raw query: plain concatenation, no re-parsing. */
function targetUrl(origin: string, path: string, query: string): string {
  const base = origin.endsWith("/") ? origin.slice(0, -1) : origin;
  return `${base}${path}${query ? `?${query}` : ""}`;
}

/**
 * The origin's response with `added` set on its headers (a fetched response's headers are
 * immutable, so it is copied once; copying the headers first and then the response costs a
 * second copy). The body streams on untouched.
 */
function answerOf(response: Response, added: Record<string, string>): Response {
  const answer = new Response(response.body, response);
  for (const name in added) answer.headers.set(name, added[name] as string);
  return answer;
}

/**
 * Sends the request on and returns the origin's response, `responseHeaders` set on it. The
 * timeout bounds the wait for the origin's answer (its status and headers), not the body that
 * streams after it.
 */
export async function forwardToOrigin(
  origin: string,
  request: OriginRequest,
  timeoutMs: number,
  responseHeaders: Record<string, string>,
): Promise<Response> {
  const { headers, query } = prepare(request);
  const hasBody = request.inbound.method !== "GET" && request.inbound.method !== "HEAD";
  const init: RequestInit = {
    method: request.inbound.method,
    headers,
    body: hasBody ? request.inbound.body : null,
    redirect: "manual",
  };
  if (origin === "echo") {
    const echoed = await echo(new Request(targetUrl("http://echo.invalid", request.path, query), init));
    for (const name in responseHeaders) echoed.headers.set(name, responseHeaders[name] as string);
    return echoed;
  }
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(targetUrl(origin, request.path, query), { ...init, signal });
  } catch (error) {
    if (signal.aborted) {
      throw new Refusal("origin_timeout", `The origin did not answer within ${timeoutMs / 1000} s.`);
    }
    logEvent("error", "origin_failed", { error: String(error) });
    throw new Refusal("origin_unreachable", "The origin could not be reached.");
  }
  return answerOf(response, responseHeaders);
}
