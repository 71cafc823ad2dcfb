/**
 * The portal API `{base-url}/portal/v1` as the element calls it: a fresh token from the page
 * before every request (so short-lived tokens are refreshed), sent only as
 * `Authorization: Bearer`; no cookie, no referrer, nothing cached.
 */

/** An answer that is not a success: its RFC 9457 problem, or what stands in for one. */
export class Problem extends Error {
  /**
   * @param {number} status
   * @param {{title?: string, detail?: string, code?: string, requestId?: string} | null} body
   */
  constructor(status, body) {
    super(body?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.title = body?.title ?? (status === 0 ? "Network error" : `HTTP ${status}`);
    this.detail = body?.detail ?? "";
    this.code = body?.code ?? (status === 0 ? "network" : "unknown");
    this.requestId = body?.requestId ?? null;
  }
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Where Portcullis is, with its base path and no trailing slash: the `base-url` attribute, or
 * else the directory above the one this module was served from (`P/portal/element.js` gives
 * `P`). Anything but `https:` is refused (null), except `http:` on the local machine.
 * @param {string | null} attribute
 * @returns {string | null}
 */
export function resolveBase(attribute) {
  let url;
  try {
    url = new URL(attribute ?? new URL("..", import.meta.url).href, document.baseURI);
  } catch {
    return null;
  }
  const allowed = url.protocol === "https:" || (url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname));
  if (!allowed || url.username || url.password) return null;
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * @param {string} base from `resolveBase`
 * @param {() => Promise<string | null | undefined>} token
 */
export function portalClient(base, token) {
  /**
   * @param {string} method
   * @param {string} path under `/portal/v1`
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  return async function call(method, path, body) {
    const bearer = await token();
    if (!bearer) throw new Problem(401, { code: "invalid_token", title: "No session" });
    let response;
    try {
      response = await fetch(`${base}/portal/v1${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${bearer}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new Problem(0, null);
    }
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) throw new Problem(response.status, parsed);
    return parsed;
  };
}

/**
 * A query string of the values that are set.
 * @param {Record<string, string | number | boolean | null | undefined>} values
 */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "" && value !== false)
      params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
