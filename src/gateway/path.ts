/**
 * Path normalisation (SPEC 2): routes match the percent-decoded path with dot segments resolved
 * and repeated slashes folded, and the origin receives exactly that path. The input is a URL
 * pathname, so literal and `%2e` dot segments and `\` are already resolved by the URL parser;
 * this step decodes each segment and refuses what could change the path's shape after matching.
 */

export type NormalizedPath =
  | {
      ok: true;
      /** Decoded segments, without empty ones. */
      segments: string[];
      /** The path to forward: segments re-encoded, joined, trailing slash kept. */
      path: string;
    }
  | { ok: false; reason: string };

/** Characters a path segment may carry unencoded (RFC 3986 pchar) that encodeURIComponent escapes. */
const PCHAR_ESCAPES = /%(24|26|2B|2C|3B|3D|3A|40)/g;

function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(PCHAR_ESCAPES, (encoded) => decodeURIComponent(encoded));
}

export function normalizePath(pathname: string, allowEncodedSlashes: boolean): NormalizedPath {
  const segments: string[] = [];
  const raw = pathname.split("/");
  for (const part of raw) {
    if (part === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { ok: false, reason: "the path has an invalid percent-encoding" };
    }
    if (!allowEncodedSlashes && /[/\\\0]/.test(segment)) {
      return { ok: false, reason: "the path has an encoded '/', '\\' or NUL" };
    }
    if (segment === ".") continue;
    if (segment === "..") {
      if (segments.pop() === undefined) return { ok: false, reason: "the path climbs above the root" };
      continue;
    }
    segments.push(segment);
  }
  const trailingSlash = segments.length > 0 && pathname.endsWith("/");
  const path = `/${segments.map(encodeSegment).join("/")}${trailingSlash ? "/" : ""}`;
  return { ok: true, segments, path };
}
