/**
 * The facts about the original request that a decision uses: method, path, query, headers,
 * scheme, host and client IP. The proxy reads them from the request itself; forward-auth reads
 * them from the headers its caller (nginx, Traefik, Caddy, Envoy) sends (SPEC 5).
 */

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

function firstHeader(headers: Headers, names: string[]): string | null {
  for (const name of names) {
    const value = headers.get(name);
    if (value) return value;
  }
  return null;
}

/**
 * Facts of the request a forward-auth caller asks about. `envoyPath` is the part of the path
 * after `P/v1/authorize` (Envoy ext_authz with `path_prefix`), used when no header gives the
 * URI. Returns null when the reported URI is not a path.
 */
export function forwardedFacts(request: Request, envoyPath: string): RequestFacts | null {
  const own = new URL(request.url);
  const headers = request.headers;
  const reported = firstHeader(headers, ["x-forwarded-uri", "x-original-uri"]);
  const uri = reported ?? (envoyPath === "" ? "/" : `${envoyPath}${own.search}`);
  if (!uri.startsWith("/")) return null;
  // Prefixing an origin keeps `//host/path` a path (with an empty segment), never a host.
  const original = new URL(`http://forward-auth.invalid${uri}`);
  const forwardedFor = headers.get("x-forwarded-for");
  return {
    method: (
      firstHeader(headers, ["x-forwarded-method", "x-original-method"]) ?? request.method
    ).toUpperCase(),
    pathname: original.pathname,
    rawQuery: original.search.slice(1),
    headers,
    scheme: (headers.get("x-forwarded-proto") ?? own.protocol.slice(0, -1)).split(",")[0]?.trim() ?? "http",
    host: headers.get("x-forwarded-host") ?? own.host,
    clientIp: headers.get("x-real-ip") ?? forwardedFor?.split(",").at(-1)?.trim() ?? null,
  };
}
