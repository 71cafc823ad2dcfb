/**
 * Random identifiers and key bodies from the platform CSPRNG.
 */

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** The largest multiple of 62 that fits in a byte: bytes at or above it are discarded, so that
 *  `byte % 62` is uniform (no modulo bias). */
const UNBIASED_LIMIT = 248;

/** `length` characters of `[A-Za-z0-9]`, each uniform over the 62 symbols. */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    // About 3% of bytes are rejected; ask for a little more than needed to rarely loop twice.
    const bytes = crypto.getRandomValues(new Uint8Array(length + 8));
    for (const byte of bytes) {
      if (byte < UNBIASED_LIMIT) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Length of the random part of record ids (`key_…`, `ws_…`, `evt_…`). */
const ID_LENGTH = 20;

export function newId(prefix: "key" | "ws" | "aud" | "evt"): string {
  return `${prefix}_${randomBase62(ID_LENGTH)}`;
}
