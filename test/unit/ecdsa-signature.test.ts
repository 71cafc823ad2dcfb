/**
 * DER-encoded ECDSA signatures to WebCrypto's fixed-width r || s, and nothing else accepted.
 */
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
    };
    for (const [name, bytes] of Object.entries(bad))
      expect(derToRawSignature(der(...bytes)), name).toBeNull();
  });
});
