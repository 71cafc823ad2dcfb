/**
 * ECDSA signatures travel DER-encoded (`SEQUENCE { INTEGER r, INTEGER s }`, RFC 3279), while
 * WebCrypto verifies only the fixed-width `r || s` form (IEEE P1363). This converts the one into
 * the other, refusing anything that is not exactly such a sequence.
 */

const SEQUENCE = 0x30;
const INTEGER = 0x02;
/** Longest content a DER short-form length can state; a P-256 signature is at most 72 bytes. */
const SHORT_FORM_MAX = 0x7f;

/** One DER element at `offset`: its content's bounds, or null when it is cut short or too long. */
function element(der: Uint8Array, offset: number, tag: number): { start: number; end: number } | null {
  if (der[offset] !== tag) return null;
  const length = der[offset + 1];
  if (length === undefined || length > SHORT_FORM_MAX) return null;
  const start = offset + 2;
  const end = start + length;
  return end <= der.length ? { start, end } : null;
}

/** A non-negative DER INTEGER as exactly `size` big-endian bytes, or null if it does not fit. */
function fixedWidth(content: Uint8Array, size: number): Uint8Array | null {
  // A set high bit without a leading zero is a negative number: never a valid r or s.
  if (content.length === 0 || (content[0] as number) & 0x80) return null;
  let first = 0;
  while (first < content.length - 1 && content[first] === 0) first += 1;
  const digits = content.subarray(first);
  if (digits.length > size) return null;
  const out = new Uint8Array(size);
  out.set(digits, size - digits.length);
  return out;
}

/**
 * The `r || s` form (2 × `size` bytes; 32 for P-256) of a DER-encoded ECDSA signature, or null
 * when `der` is not one.
 */
export function derToRawSignature(der: Uint8Array, size = 32): Uint8Array | null {
  const sequence = element(der, 0, SEQUENCE);
  if (!sequence || sequence.end !== der.length) return null;
  const r = element(der, sequence.start, INTEGER);
  if (!r) return null;
  const s = element(der, r.end, INTEGER);
  if (!s || s.end !== sequence.end) return null;
  const rBytes = fixedWidth(der.subarray(r.start, r.end), size);
  const sBytes = fixedWidth(der.subarray(s.start, s.end), size);
  if (!rBytes || !sBytes) return null;
  const raw = new Uint8Array(size * 2);
  raw.set(rBytes, 0);
  raw.set(sBytes, size);
  return raw;
}
