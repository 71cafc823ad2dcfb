/**
 * The facts about the original request that a decision uses: method, path, query, headers,
 * scheme, host and client IP. The proxy reads them from the request itself; forward-auth reads
 * them from what its caller (nginx, Traefik, Caddy, Envoy) sets itself, and from nothing else
 * (docs/headers.md).
 */
import { distinctRemoteAddr } from "hono/utils/ipaddr";
import { FORWARD_AUTH_PROXIES, type ForwardAuthProxy } from "../policy/schema";

/** The original request, as seen by the proxy or reported to forward-auth. */
export interface RequestFacts {
  method: string;
  /** URL pathname: dot segments and backslashes already resolved by the URL parser. */
  pathname: string;
  /** Query string without `?`, as received. */
  rawQuery: string;
  headers: Headers;
  /** `http` or `https`. */
  scheme: string;
  /** Host as the client addressed it, with the port if any. */
  host: string;
  clientIp: string | null;
}

/** The client's IP as Cloudflare saw it; null when unknown (local tools without the header). */
export function clientIp(headers: Headers): string | null {
  return headers.get("cf-connecting-ip");
}

/** Facts of a request the Worker receives directly. `X-Forwarded-*` is not trusted here. */
export function directFacts(request: Request): RequestFacts {
  const url = new URL(request.url);
  return {
    method: request.method,
    pathname: url.pathname,
    rawQuery: url.search.slice(1),
    headers: request.headers,
    scheme: url.protocol.slice(0, -1),
    host: url.host,
    clientIp: clientIp(request.headers),
  };
}

/** A request header's name, in lower case. */
type HeaderName = `x-${string}`;

/**
 * Where one proxy reports each fact of the original request: headers it sets itself (with the
 * configuration of docs/forward-auth.md, overwriting a client's copy), or the forward-auth call itself. A proxy
 * passes its client's other headers through, so a header of another row is the client's word.
 */
export interface ProxyRow {
  /** `call`: the method of the forward-auth call itself. */
  method: HeaderName | "call";
  /** Path and query; `call`: what follows `P/v1/authorize` in the call's own target. */
  uri: HeaderName | "call";
  scheme: HeaderName;
  /** As the client addressed it, with the port if any; `call`: the call's own Host. */
  host: HeaderName | "call";
  /** The header's whole value, or its last entry (the one the proxy appended). */
  clientIp: { header: HeaderName; entry: "whole" | "last" };
}

/** docs/headers.md's forward-auth table. */
export const PROXY_ROWS: Readonly<Record<ForwardAuthProxy, ProxyRow>> = {
  nginx: {
    method: "x-original-method",
    uri: "x-original-uri",
    scheme: "x-forwarded-proto",
    host: "x-forwarded-host",
    clientIp: { header: "x-real-ip", entry: "whole" },
  },
  traefik: {
    method: "x-forwarded-method",
    uri: "x-forwarded-uri",
    scheme: "x-forwarded-proto",
    host: "x-forwarded-host",
    clientIp: { header: "x-forwarded-for", entry: "last" },
  },
  caddy: {
    method: "x-forwarded-method",
    uri: "x-forwarded-uri",
    scheme: "x-forwarded-proto",
    host: "x-forwarded-host",
    clientIp: { header: "x-forwarded-for", entry: "last" },
  },
  envoy: {
    method: "call",
    uri: "call",
    scheme: "x-forwarded-proto",
    host: "call",
    clientIp: { header: "x-forwarded-for", entry: "last" },
  },
};

/** What forward-auth reads of the call it receives; a `Request` is one. */
export interface ForwardAuthCall {
  method: string;
  /** The call's absolute URL as received, its target not yet resolved. */
  url: string;
  headers: Headers;
}

export type ProxyChoice =
  | { ok: true; proxy: ForwardAuthProxy }
  | { ok: false; detail: string; nginxMayCall: boolean };

export type Forwarded = { ok: true; facts: RequestFacts } | { ok: false; detail: string };

/**
 * The call's path and query as written: parsing would resolve dot segments first. (The Workers
 * runtime may already have resolved those of the call's own URL, Envoy's form; docs/forward-auth.md's
 * Envoy configuration normalises the path before asking.)
 */
function rawTarget(url: string): string {
  const slash = url.indexOf("/", url.indexOf("://") + 3);
  return slash === -1 ? "/" : url.slice(slash);
}

/**
 * Which proxy a call comes from. `P/v1/authorize/<path>` is Envoy's form, whose query is its
 * client's, so it names nothing. `P/v1/authorize` names its proxy with `?proxy=` (or the alias
 * `?compat=nginx`; the URL is the operator's) or takes the policy's `forwardAuth.proxy`; with
 * neither, or when they differ, no row can be trusted. A failure says whether nginx may be the
 * caller, so that it gets an answer nginx can pass on.
 */
export function chooseProxy(
  url: string,
  authorizePath: string,
  configured: ForwardAuthProxy | undefined,
): ProxyChoice {
  const target = rawTarget(url);
  if (target.startsWith(`${authorizePath}/`)) return { ok: true, proxy: "envoy" };
  const queryAt = target.indexOf("?");
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? "" : target.slice(queryAt + 1));
  const names = new Set([
    ...params.getAll("proxy"),
    // `compat=nginx` is the older spelling of `proxy=nginx`; no other `compat` value is known.
    ...params.getAll("compat").map((value) => (value === "nginx" ? "nginx" : `compat=${value}`)),
  ]);
  const nginxMayCall = names.has("nginx") || (names.size === 0 && configured === "nginx");
  const fail = (detail: string): ProxyChoice => ({ ok: false, detail, nginxMayCall });
  if (path !== authorizePath) {
    return fail(`Call ${authorizePath} or ${authorizePath}/<path> as written here, without encoding.`);
  }
  const unknown = [...names].find((name) => !(FORWARD_AUTH_PROXIES as readonly string[]).includes(name));
  if (unknown !== undefined) {
    return fail(`Unknown proxy "${unknown}": name one of ${FORWARD_AUTH_PROXIES.join(", ")} with ?proxy=.`);
  }
  if (names.size > 1) return fail("The call names more than one proxy.");
  const [asked] = names as Set<ForwardAuthProxy>;
  if (asked !== undefined && configured !== undefined && asked !== configured) {
    return fail(`The call names proxy "${asked}" but the policy's forwardAuth.proxy is "${configured}".`);
  }
  const proxy = asked ?? configured;
  if (proxy === undefined) {
    return fail("Name the calling proxy with ?proxy=<name> or the policy's forwardAuth.proxy.");
  }
  return { ok: true, proxy };
}

/** A dot segment in any mix of `.` and `%2e`. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Why a reported URI cannot be decided on, or null. The proxy forwards the raw URI, so one that
 * the URL parser would change (dot segments, backslashes, repeated slashes; whitespace and
 * controls it drops; non-ASCII it re-encodes; `#` it cuts off) names a different path at the
 * origin than the one decided on.
 */
function uriProblem(uri: string): string | null {
  if (!uri.startsWith("/")) return "the reported URI is not a path";
  for (const char of uri) {
    const code = char.charCodeAt(0);
    if (code <= 0x20 || code >= 0x7f || char === "#") {
      return "the reported URI has a space, a control or non-ASCII character, or '#' (percent-encode them)";
    }
  }
  const queryAt = uri.indexOf("?");
  const path = queryAt === -1 ? uri : uri.slice(0, queryAt);
  if (/\\|%5c/i.test(path)) return "the reported path has a backslash";
  if (path.includes("//")) return "the reported path has repeated slashes";
  if (path.split("/").some((segment) => DOT_SEGMENT.test(segment))) {
    return "the reported path has a '.' or '..' segment";
  }
  return null;
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SCHEME = /^https?$/i;
/** A host name or IP literal with an optional port. */
const HOST = /^[A-Za-z0-9._~-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/;

function missing(header: string): { ok: false; detail: string } {
  return { ok: false, detail: `The proxy must send ${header}; it is missing or invalid.` };
}

/**
 * The facts of the request a forward-auth call asks about, read only from the row of `proxy`.
 * `authorizePath` is `P/v1/authorize`.
 */
export function forwardedFacts(
  call: ForwardAuthCall,
  proxy: ForwardAuthProxy,
  authorizePath: string,
): Forwarded {
  const row = PROXY_ROWS[proxy];
  const read = (name: HeaderName) => call.headers.get(name)?.trim() || null;

  let uri: string | null;
  if (row.uri === "call") {
    const target = rawTarget(call.url);
    uri = target.startsWith(`${authorizePath}/`) ? target.slice(authorizePath.length) : null;
    if (uri === null) return { ok: false, detail: `Envoy calls ${authorizePath}/<original path>.` };
  } else {
    uri = read(row.uri);
    if (uri === null) return missing(row.uri);
  }
  const problem = uriProblem(uri);
  if (problem) return { ok: false, detail: `Invalid path: ${problem}.` };

  const method = row.method === "call" ? call.method : read(row.method);
  if (method === null || !METHOD.test(method))
    return missing(row.method === "call" ? "a method" : row.method);

  const scheme = read(row.scheme);
  if (scheme === null || !SCHEME.test(scheme)) return missing(row.scheme);

  const host = row.host === "call" ? new URL(call.url).host : read(row.host);
  if (host === null || !HOST.test(host)) return missing(row.host === "call" ? "a Host" : row.host);

  const ipHeader = read(row.clientIp.header);
  const ip = row.clientIp.entry === "last" ? ipHeader?.split(",").at(-1)?.trim() : ipHeader;
  if (!ip || distinctRemoteAddr(ip) === undefined) return missing(row.clientIp.header);

  // Prefixing an origin keeps the path a path; `//` was refused above, so it cannot name a host.
  const original = new URL(`http://forward-auth.invalid${uri}`);
  return {
    ok: true,
    facts: {
      method: method.toUpperCase(),
      pathname: original.pathname,
      rawQuery: original.search.slice(1),
      headers: call.headers,
      scheme: scheme.toLowerCase(),
      host,
      clientIp: ip,
    },
  };
}
