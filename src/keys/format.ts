/**
 * The key format of docs/policy.md#keys: `<prefix>_<body>_<crc32>` for checksummed types,
 * `<prefix>_<rest>` otherwise. Parsing is pure: a malformed key is refused before any storage
 * is read.
 */
import { crc32 } from "node:zlib";
import { randomBase62 } from "./random";

/** Characters of random body in a generated key. */
const BODY_LENGTH = 32;
const CHECKSUMMED_REST = /^([A-Za-z0-9]{32})_([0-9a-f]{8})$/;
const PLAIN_REST = /^[A-Za-z0-9_-]{1,200}$/;
/** Characters after the prefix kept in the display hint `start`. */
const START_LENGTH = 4;

export interface KeyFormat {
  /** Key type name. */
  type: string;
  prefix: string;
  checksum: boolean;
}

/** Prepares key formats for parsing: longest prefix first, so that `clm_pub` beats `clm`. */
export function compileFormats(formats: KeyFormat[]): KeyFormat[] {
  return [...formats].sort((a, b) => b.prefix.length - a.prefix.length);
}

export function checksumOf(body: string): string {
  return crc32(body).toString(16).padStart(8, "0");
}

export function generateKey(format: KeyFormat): string {
  const body = randomBase62(BODY_LENGTH);
  return format.checksum ? `${format.prefix}_${body}_${checksumOf(body)}` : `${format.prefix}_${body}`;
}

/** The key type of a well-formed key, or null when its shape, prefix or checksum is wrong. */
export function parseKey(key: string, formats: KeyFormat[]): KeyFormat | null {
  for (const format of formats) {
    if (!key.startsWith(`${format.prefix}_`)) continue;
    const rest = key.slice(format.prefix.length + 1);
    if (!format.checksum) return PLAIN_REST.test(rest) ? format : null;
    const match = CHECKSUMMED_REST.exec(rest);
    return match && checksumOf(match[1] as string) === match[2] ? format : null;
  }
  return null;
}

/** The stored display hint: the prefix, `_` and the first characters after it. */
export function keyStart(key: string, format: KeyFormat): string {
  return key.slice(0, format.prefix.length + 1 + START_LENGTH);
}
