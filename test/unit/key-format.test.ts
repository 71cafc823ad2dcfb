import { afterEach, describe, expect, it, vi } from "vitest";
import { checksumOf, compileFormats, generateKey, keyStart, parseKey } from "../../src/keys/format";
import { randomBase62 } from "../../src/keys/random";

const formats = compileFormats([
  { type: "pub", prefix: "clm_pub", checksum: true },
  { type: "clm", prefix: "clm", checksum: true },
  { type: "plain", prefix: "ck_live", checksum: false },
]);

afterEach(() => vi.restoreAllMocks());

describe("key format", () => {
  it("checksums are CRC-32 (IEEE) of the body as 8 lowercase hex digits", () => {
    // Reference values of zlib.crc32.
    expect(checksumOf("hello")).toBe("3610a686");
    expect(checksumOf("AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEf")).toMatch(/^[0-9a-f]{8}$/);
    expect(checksumOf("a")).toBe("e8b7be43");
  });

  it("generates <prefix>_<32 base62>_<crc32> keys that parse back to their type", () => {
    for (const format of formats.filter((f) => f.checksum)) {
      const key = generateKey(format);
      const match = new RegExp(`^${format.prefix}_([A-Za-z0-9]{32})_([0-9a-f]{8})$`).exec(key);
      expect(match, key).not.toBeNull();
      expect(match?.[2]).toBe(checksumOf(match?.[1] ?? ""));
      expect(parseKey(key, formats)?.type).toBe(format.type);
    }
  });

  it("generates <prefix>_<body> for types without checksum", () => {
    const key = generateKey({ type: "plain", prefix: "ck_live", checksum: false });
    expect(key).toMatch(/^ck_live_[A-Za-z0-9]{32}$/);
    expect(parseKey(key, formats)?.type).toBe("plain");
  });

  it("refuses a wrong checksum, a wrong shape and an unknown prefix", () => {
    // A checksum with a letter in it, so that its upper-case form differs (all digits: ~2% of keys).
    let key = generateKey({ type: "clm", prefix: "clm", checksum: true });
    while (!/[a-f]/.test(key.slice(-8))) key = generateKey({ type: "clm", prefix: "clm", checksum: true });
    const body = key.slice(4, 36);
    const wrongChecksum = `clm_${body}_${checksumOf(`${body.slice(1)}x`)}`;
    expect(parseKey(wrongChecksum, formats)).toBeNull();
    expect(parseKey(`clm_${body.slice(1)}_${checksumOf(body.slice(1))}`, formats)).toBeNull(); // 31 chars
    expect(parseKey(`clm_${body}-${checksumOf(body)}`, formats)).toBeNull();
    expect(parseKey(`clm_${body}_${checksumOf(body).toUpperCase()}`, formats)).toBeNull();
    expect(parseKey(`zzz_${body}_${checksumOf(body)}`, formats)).toBeNull();
    expect(parseKey("eyJhbGciOi.eyJzdWIi.sig", formats)).toBeNull();
    expect(parseKey("", formats)).toBeNull();
  });

  it("lets the longest matching prefix decide, with no fallback to a shorter one", () => {
    const pub = generateKey({ type: "pub", prefix: "clm_pub", checksum: true });
    expect(parseKey(pub, formats)?.type).toBe("pub");
    const nested = compileFormats([
      { type: "any", prefix: "ck", checksum: false },
      { type: "live", prefix: "ck_live", checksum: true },
    ]);
    // `ck_live_…` with a bad checksum would be a valid `ck` key ("live_…" is a plain rest), but
    // the longest prefix, `ck_live`, decides: the key is malformed.
    expect(parseKey("ck_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_00000000", nested)).toBeNull();
    expect(parseKey("ck_other", nested)?.type).toBe("any");
  });

  it("accepts 1 to 200 characters of [A-Za-z0-9_-] after the prefix of an unchecksummed type", () => {
    expect(parseKey("ck_live_a", formats)?.type).toBe("plain");
    expect(parseKey(`ck_live_${"a".repeat(200)}`, formats)?.type).toBe("plain");
    expect(parseKey(`ck_live_${"a".repeat(201)}`, formats)).toBeNull();
    expect(parseKey("ck_live_", formats)).toBeNull();
    expect(parseKey("ck_live_a b", formats)).toBeNull();
  });

  it("keeps the prefix and four characters as the display hint", () => {
    expect(keyStart("clm_pub_AbCdEfGh_12345678", { type: "pub", prefix: "clm_pub", checksum: true })).toBe(
      "clm_pub_AbCd",
    );
  });
});

describe("randomBase62", () => {
  it("discards bytes of 248 and above, so that every symbol is equally likely", () => {
    const bytes = [255, 248, 0, 61, 62, 247, 123];
    vi.spyOn(crypto, "getRandomValues").mockImplementation(
      <T extends ArrayBufferView | null>(array: T): T => {
        const view = array as unknown as Uint8Array;
        view.fill(0);
        view.set(bytes.slice(0, view.length));
        return array;
      },
    );
    // 255 and 248 are skipped; 0 -> A, 61 -> 9, 62 -> A, 247 -> 9 (247 % 62 = 61), 123 -> 9 (123 % 62 = 61).
    expect(randomBase62(5)).toBe("A9A99");
  });

  it("produces only base62 characters, all of them over many draws", () => {
    const seen = new Set(randomBase62(20_000));
    expect(seen.size).toBe(62);
    for (const char of seen) expect(char).toMatch(/[A-Za-z0-9]/);
  });
});
