/**
 * ECDSA signatures travel DER-encoded (`SEQUENCE { INTEGER r, INTEGER s }`, RFC 3279), while
 * WebCrypto verifies only the fixed-width `r || s` form (IEEE P1363). This converts the one into
 * the other, accepting only strict DER (the rules of BIP 66): short-form lengths that add up
 * exactly, no byte after the sequence, and each integer in its one minimal encoding, positive
 * and nonzero. So a signature has exactly one accepted encoding; any other (a padded integer, a
 * long-form length, a trailing byte) is refused, even though it would decode to a valid pair.
 *
 * A high `s` (above half the curve's order) is accepted: `(r, s)` and `(r, n − s)` both verify
 * under standard ECDSA, GitHub signs with standard ECDSA, which does not normalise `s`, and the
 * verification examples of its secret scanning documentation (Go's `ecdsa.Verify`, Node's
 * `crypto.verify`, Ruby's and Python's OpenSSL bindings) all accept either. Refusing one half
 * would refuse genuine reports.
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

/**
 * A DER INTEGER's content as exactly `size` big-endian bytes, or null unless it is the minimal
 * encoding of a number from 1 to 2^(8·size) − 1: a set high bit without a leading zero is
 * negative, a leading zero is allowed only before a set high bit, and zero is never an r or s.
 */
function fixedWidth(content: Uint8Array, size: number): Uint8Array | null {
  const [first, second] = content;
  if (first === undefined || first & 0x80) return null;
  if (first === 0 && (second === undefined || !(second & 0x80))) return null;
  const digits = first === 0 ? content.subarray(1) : content;
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
