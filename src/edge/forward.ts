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

/** Builds the headers and query the origin receives. */
function prepare(request: OriginRequest): { headers: Headers; query: string } {
  const headers = new Headers();
  request.inbound.headers.forEach((value, name) => {
    if (!name.startsWith(RESERVED_HEADER_PREFIX) && !NOT_FORWARDED.has(name)) headers.append(name, value);
  });
  const query = removeCredential(request.credentialSources, headers, request.rawQuery);
  for (const [name, value] of Object.entries(request.added)) headers.set(name, value);
  return { headers, query };
}

/** The origin's URL for a normalised path and raw query: plain concatenation, no re-parsing. */
function targetUrl(origin: string, path: string, query: string): string {
  const base = origin.endsWith("/") ? origin.slice(0, -1) : origin;
  return `${base}${path}${query ? `?${query}` : ""}`;
}

/** Sends the request on and returns the origin's response with mutable headers. */
export async function forwardToOrigin(
  origin: string,
  request: OriginRequest,
  timeoutMs: number,
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
    return echo(new Request(targetUrl("http://echo.invalid", request.path, query), init));
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(targetUrl(origin, request.path, query), {
      ...init,
      signal: controller.signal,
    });
    return new Response(response.body, response);
  } catch (error) {
    if (controller.signal.aborted) {
      throw new Refusal("origin_timeout", `The origin did not answer within ${timeoutMs / 1000} s.`);
    }
    logEvent("error", "origin_failed", { error: String(error) });
    throw new Refusal("origin_unreachable", "The origin could not be reached.");
  } finally {
    clearTimeout(timer);
  }
}
