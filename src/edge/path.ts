/**
 * Path normalisation (docs/policy.md): routes match the percent-decoded path with dot segments resolved
 * and repeated slashes folded, and the origin receives exactly that path, re-encoded
 * canonically. The input is a URL pathname, so literal and `%2e` dot segments and `\` are
 * already resolved by the URL parser, and raw spaces and non-ASCII characters are already
 * percent-encoded.
 *
 * Origins disagree about everything else (Tomcat reads `..;` as `..`, IIS and Windows drop
 * trailing dots and spaces, some servers fold Unicode or case, some decode `%2F` before
 * splitting), so any path one of them could read as another path is refused here, before
 * matching, instead of being forwarded for the origin to interpret.
 */

export type NormalizedPath =
  | {
      ok: true;
      /** Decoded segments, without empty ones. */
      segments: string[];
      /** The path to forward: segments re-encoded canonically, joined, trailing slash kept. */
      path: string;
    }
  | { ok: false; reason: string };

export interface PathOptions {
  /** An encoded `/` or `\` may stay inside its segment (policy `allowEncodedSlashes`). */
  allowEncodedSlashes: boolean;
  /** Non-ASCII characters are allowed (policy `paths.allowNonAscii`). */
  allowNonAscii: boolean;
}

const SEMICOLON = 0x3b;
const SPACE = 0x20;
const DELETE = 0x7f;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;

/** Bytes RFC 3986 allows raw in a segment (unreserved, sub-delims, `:`, `@`); `;` never gets here. */
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@]$/;

/**
 * A segment made only of characters it may carry raw, without `%`: percent-decoding leaves it
 * as it is, every byte check passes, it is ASCII, and its canonical encoding is itself.
 */
const PLAIN_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,=:@]+$/;

/** A segment's trailing character that Windows-style servers drop: a dot or whitespace. */
const DROPPED_TAIL = /[.\s]$/u;

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

const UTF8_ENCODER = new TextEncoder();

/** The segment's bytes, `%XX` decoded; null when a `%` is not followed by two hex digits. */
function percentDecode(part: string): Uint8Array | null {
  const raw = UTF8_ENCODER.encode(part);
  const bytes = new Uint8Array(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] as number;
    if (byte !== PERCENT) {
      bytes[length++] = byte;
      continue;
    }
    const high = hexValue(raw[i + 1]);
    const low = hexValue(raw[i + 2]);
    if (high < 0 || low < 0) return null;
    bytes[length++] = high * 16 + low;
    i += 2;
  }
  return bytes.subarray(0, length);
}

/** Why these bytes may not be in a segment, or null. */
function refuseBytes(bytes: Uint8Array, options: PathOptions): string | null {
  for (const byte of bytes) {
    if (byte === SEMICOLON) return "the path has a ';' (a matrix parameter)";
    if (byte <= SPACE || byte === DELETE) return "the path has a space or a control character";
    if ((byte === SLASH || byte === BACKSLASH) && !options.allowEncodedSlashes) {
      return "the path has an encoded '/' or '\\'";
    }
    if (byte >= 0x80 && !options.allowNonAscii) return "the path has a non-ASCII character";
  }
  return null;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The bytes as UTF-8 text; null for invalid UTF-8, overlong forms and encoded surrogates included. */
function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/** A non-ASCII character that Unicode compatibility folding (NFKC) turns into ASCII, like `ａ` or `K`. */
function hasAsciiLookalike(segment: string): boolean {
  for (const char of segment) {
    if (char.charCodeAt(0) < 0x80) continue;
    if ([...char.normalize("NFKC")].some((folded) => folded.charCodeAt(0) < 0x80)) return true;
  }
  return false;
}

function encodeSegment(bytes: Uint8Array): string {
  let encoded = "";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    encoded += PCHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

export function normalizePath(pathname: string, options: PathOptions): NormalizedPath {
  const segments: string[] = [];
  const encoded: string[] = [];
  for (const part of pathname.split("/")) {
    if (part === "") continue;
    // A plain segment is its own decoded text and its own canonical encoding: only the dot
    // checks below apply to it. Any other is decoded and checked byte by byte.
    const plain = PLAIN_SEGMENT.test(part);
    let bytes: Uint8Array | null = null;
    let segment = part;
    if (!plain) {
      bytes = percentDecode(part);
      if (!bytes) return { ok: false, reason: "the path has an invalid percent-encoding" };
      const refusal = refuseBytes(bytes, options);
      if (refusal) return { ok: false, reason: refusal };
      const text = decodeUtf8(bytes);
      if (text === null) return { ok: false, reason: "the path has an invalid or overlong UTF-8 encoding" };
      segment = text;
    }
    if (segment === ".") continue;
    if (segment === "..") {
      if (segments.pop() === undefined) return { ok: false, reason: "the path climbs above the root" };
      encoded.pop();
      continue;
    }
    if (DROPPED_TAIL.test(segment)) {
      return { ok: false, reason: "a path segment ends in '.' or whitespace" };
    }
    if (bytes && hasAsciiLookalike(segment)) {
      return { ok: false, reason: "the path has a non-ASCII character that stands for an ASCII one" };
    }
    segments.push(segment);
    encoded.push(bytes ? encodeSegment(bytes) : part);
  }
  const trailingSlash = segments.length > 0 && pathname.endsWith("/");
  const path = `/${encoded.join("/")}${trailingSlash ? "/" : ""}`;
  return { ok: true, segments, path };
}
