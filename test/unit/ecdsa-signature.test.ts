/**
 * DER-encoded ECDSA signatures to WebCrypto's fixed-width r || s, and nothing else accepted:
 * only the one canonical (strict DER) encoding of a signature, never another encoding of it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { derToRawSignature } from "../../src/keys/ecdsa-signature";
import { rawToDer } from "../worker/github-reports";

function der(...bytes: number[]): Uint8Array {
  return new Uint8Array(bytes);
}

function filled(length: number, byte: number): number[] {
  return Array(length).fill(byte);
}

describe("derToRawSignature", () => {
  it("drops the zero that keeps a high bit positive", () => {
    const r = [0x00, ...filled(32, 0x81)];
    const s = filled(32, 0x11);
    const raw = derToRawSignature(der(0x30, 69, 0x02, 33, ...r, 0x02, 32, ...s));
    expect(raw).toEqual(new Uint8Array([...filled(32, 0x81), ...s]));
  });

  it("left-pads short integers to 32 bytes", () => {
    const raw = derToRawSignature(der(0x30, 9, 0x02, 2, 0x01, 0x02, 0x02, 3, 0x03, 0x04, 0x05));
    expect(raw).toEqual(new Uint8Array([...filled(30, 0), 0x01, 0x02, ...filled(29, 0), 0x03, 0x04, 0x05]));
  });

  it("inverts the DER encoding of real signatures, whatever their integers' lengths", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
    ])) as CryptoKeyPair;
    const lengths = new Set<number>();
    for (let i = 0; i < 40; i += 1) {
      const raw = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new Uint8Array([i])),
      );
      const encoded = rawToDer(raw);
      lengths.add(encoded.length);
      expect(derToRawSignature(encoded)).toEqual(raw);
    }
    // Some integers had their high bit set (a leading zero) and some not.
    expect(lengths.size).toBeGreaterThan(1);
  });

  it("refuses what is not exactly a sequence of two non-negative integers of at most 32 bytes", () => {
    const ok = [0x30, 6, 0x02, 1, 0x01, 0x02, 1, 0x01];
    expect(derToRawSignature(der(...ok))).not.toBeNull();
    const bad: Record<string, number[]> = {
      empty: [],
      "not a sequence": [0x31, ...ok.slice(1)],
      "not an integer": [0x30, 6, 0x04, 1, 0x01, 0x02, 1, 0x01],
      "trailing bytes": [...ok, 0x00],
      "sequence longer than the input": [0x30, 7, ...ok.slice(2)],
      "integer beyond the sequence": [0x30, 6, 0x02, 1, 0x01, 0x02, 2, 0x01],
      "a third integer": [0x30, 9, 0x02, 1, 0x01, 0x02, 1, 0x01, 0x02, 1, 0x01],
      "empty integer": [0x30, 5, 0x02, 0, 0x02, 1, 0x01],
      negative: [0x30, 6, 0x02, 1, 0x81, 0x02, 1, 0x01],
      "33 significant bytes": [0x30, 38, 0x02, 33, ...filled(33, 0x01), 0x02, 1, 0x01],
      "long-form length": [0x30, 0x81, 6, 0x02, 1, 0x01, 0x02, 1, 0x01],
      "long-form integer length": [0x30, 7, 0x02, 0x81, 1, 0x01, 0x02, 1, 0x01],
      "indefinite length": [0x30, 0x80, 0x02, 1, 0x01, 0x02, 1, 0x01, 0x00, 0x00],
      "a leading zero before a clear high bit": [0x30, 7, 0x02, 2, 0x00, 0x01, 0x02, 1, 0x01],
      "two leading zeros before a set high bit": [0x30, 8, 0x02, 3, 0x00, 0x00, 0x81, 0x02, 1, 0x01],
      "r is zero": [0x30, 6, 0x02, 1, 0x00, 0x02, 1, 0x01],
      "s is zero": [0x30, 6, 0x02, 1, 0x01, 0x02, 1, 0x00],
      "33 bytes with a zero first, high bit clear": [
        0x30,
        38,
        0x02,
        33,
        0x00,
        ...filled(32, 0x01),
        0x02,
        1,
        0x01,
      ],
    };
    for (const [name, bytes] of Object.entries(bad))
      expect(derToRawSignature(der(...bytes)), name).toBeNull();
  });
});

/** A nonzero 32-byte big-endian number, with small and high-bit ones often. */
const scalar = fc
  .tuple(fc.nat({ max: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }))
  .map(([zeros, bytes]) => {
    const out = bytes.slice();
    out.fill(0, 0, zeros);
    return out;
  })
  .filter((bytes) => bytes.some((byte) => byte !== 0));

const signature = fc.tuple(scalar, scalar).map(([r, s]) => new Uint8Array([...r, ...s]));

/** The parts of a canonical encoding: the sequence's and each integer's tag, length, content. */
function parts(encoded: Uint8Array) {
  const rLength = encoded[3] as number;
  const r = [...encoded.subarray(4, 4 + rLength)];
  const s = [...encoded.subarray(6 + rLength)];
  return { r, s };
}

function sequence(content: number[]): Uint8Array {
  return new Uint8Array([0x30, content.length, ...content]);
}

/** Every way of writing a signature that is not its canonical encoding, named. */
const malleations: Record<string, fc.Arbitrary<(encoded: Uint8Array) => Uint8Array>> = {
  "extra leading zeros in r": fc.integer({ min: 1, max: 3 }).map((n) => (encoded) => {
    const { r, s } = parts(encoded);
    const padded = [...Array(n).fill(0), ...r];
    return sequence([0x02, padded.length, ...padded, 0x02, s.length, ...s]);
  }),
  "extra leading zeros in s": fc.integer({ min: 1, max: 3 }).map((n) => (encoded) => {
    const { r, s } = parts(encoded);
    const padded = [...Array(n).fill(0), ...s];
    return sequence([0x02, r.length, ...r, 0x02, padded.length, ...padded]);
  }),
  "bytes after the sequence": fc.uint8Array({ minLength: 1, maxLength: 4 }).map((extra) => (encoded) => {
    return new Uint8Array([...encoded, ...extra]);
  }),
  "bytes after s inside the sequence": fc
    .uint8Array({ minLength: 1, maxLength: 4 })
    .map((extra) => (encoded) => {
      return sequence([...encoded.subarray(2), ...extra]);
    }),
  "a long-form sequence length": fc.constant((encoded: Uint8Array) => {
    return new Uint8Array([0x30, 0x81, encoded[1] as number, ...encoded.subarray(2)]);
  }),
  "a long-form integer length": fc.boolean().map((first) => (encoded) => {
    const { r, s } = parts(encoded);
    const long = (digits: number[]) => [0x02, 0x81, digits.length, ...digits];
    const short = (digits: number[]) => [0x02, digits.length, ...digits];
    return sequence(first ? [...long(r), ...short(s)] : [...short(r), ...long(s)]);
  }),
  "a wrong sequence length": fc
    .integer({ min: -3, max: 3 })
    .filter((d) => d !== 0)
    .map((delta) => (encoded) => {
      const copy = encoded.slice();
      copy[1] = (encoded[1] as number) + delta;
      return copy;
    }),
  "a wrong integer length": fc
    .tuple(
      fc.boolean(),
      fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
    )
    .map(([first, delta]) => (encoded) => {
      const copy = encoded.slice();
      const at = first ? 3 : 5 + (encoded[3] as number);
      copy[at] = Math.max(0, (encoded[at] as number) + delta);
      return copy;
    }),
};

describe("strict DER (property)", () => {
  it("round-trips any canonical signature", () => {
    fc.assert(
      fc.property(signature, (raw) => {
        expect(derToRawSignature(rawToDer(raw))).toEqual(raw);
      }),
      { numRuns: 500 },
    );
  });

  it.each(Object.keys(malleations))("refuses %s", (name) => {
    fc.assert(
      fc.property(
        signature,
        malleations[name] as fc.Arbitrary<(e: Uint8Array) => Uint8Array>,
        (raw, malleate) => {
          const canonical = rawToDer(raw);
          const malleated = malleate(canonical);
          expect(malleated).not.toEqual(canonical);
          const decoded = derToRawSignature(malleated);
          // A wrong integer length may happen to frame another canonical pair: never this one.
          if (name === "a wrong integer length" && decoded) expect(rawToDer(decoded)).toEqual(malleated);
          else expect(decoded).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("accepts a byte string only if it is the canonical encoding of what it decodes to", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
        const decoded = derToRawSignature(bytes);
        if (decoded) expect(rawToDer(decoded)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
