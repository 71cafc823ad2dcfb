import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizePath } from "../../src/edge/path";

/** What the Workers URL parser makes of a raw path, as the proxy sees it. */
function pathname(raw: string): string {
  return new URL(`https://host.test${raw}`).pathname;
}

function options(allowEncodedSlashes = false, allowNonAscii = false) {
  return { allowEncodedSlashes, allowNonAscii };
}

function normalize(raw: string, allowEncodedSlashes = false, allowNonAscii = false) {
  return normalizePath(pathname(raw), options(allowEncodedSlashes, allowNonAscii));
}

describe("normalizePath", () => {
  it.each([
    ["/a/b", "/a/b", ["a", "b"]],
    ["/a//b///c", "/a/b/c", ["a", "b", "c"]],
    ["/a/./b/../c", "/a/c", ["a", "c"]],
    ["/a/%2e%2e/b", "/b", ["b"]],
    ["/a/.%2E/b", "/b", ["b"]],
    ["/a\\..\\b", "/b", ["b"]],
    ["/%41%7e%2D/%3f%23%25", "/A~-/%3F%23%25", ["A~-", "?#%"]],
    ["/a|b^c", "/a%7Cb%5Ec", ["a|b^c"]],
    ["/a/b/", "/a/b/", ["a", "b"]],
    ["/", "/", []],
    ["/users/me@example.com:x", "/users/me@example.com:x", ["users", "me@example.com:x"]],
    ["/Mixed/CASE", "/Mixed/CASE", ["Mixed", "CASE"]],
  ])("%s -> %s", (raw, path, segments) => {
    expect(normalize(raw)).toEqual({ ok: true, path, segments });
  });

  it.each(["/public/..%2fadmin", "/a%2Fb", "/a%5Cb", "/a%00b", "/a/%2f"])(
    "refuses the encoded separator in %s",
    (raw) => {
      expect(normalize(raw).ok).toBe(false);
    },
  );

  it("keeps an encoded slash inside its segment when allowed, and forwards it encoded", () => {
    expect(normalize("/files/a%2Fb", true)).toEqual({
      ok: true,
      path: "/files/a%2Fb",
      segments: ["files", "a/b"],
    });
    expect(normalize("/public/..%2fadmin", true)).toEqual({
      ok: true,
      path: "/public/..%2Fadmin",
      segments: ["public", "../admin"],
    });
  });

  it("refuses a path that climbs above the root or has a broken escape", () => {
    expect(normalizePath("/a/../..", options()).ok).toBe(false);
    expect(normalizePath("/..", options()).ok).toBe(false);
    expect(normalize("/a/%zz").ok).toBe(false);
    expect(normalize("/a/%4").ok).toBe(false);
    expect(normalize("/a/%").ok).toBe(false);
    expect(normalize("/a/%C3%28", false, true).ok).toBe(false);
  });

  it.each([
    ["/a;b", "';'"],
    ["/a/..;/b", "';'"],
    ["/a/%3Bb", "';'"],
    ["/a%20b", "space"],
    ["/a%09b", "space"],
    ["/a%7Fb", "space"],
    ["/a\u0001b", "space"],
    ["/a./b", "ends in '.'"],
    ["/a%2e/b", "ends in '.'"],
    ["/a/...", "ends in '.'"],
    ["/caf%C3%A9", "non-ASCII"],
    ["/ｓ", "non-ASCII"],
  ])("refuses %s (%s)", (raw, reason) => {
    const result = normalize(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it("with allowNonAscii, keeps valid UTF-8 re-encoded in upper case, refuses overlong, broken or look-alike forms", () => {
    expect(normalize("/caf%c3%a9/€", false, true)).toEqual({
      ok: true,
      path: "/caf%C3%A9/%E2%82%AC",
      segments: ["café", "€"],
    });
    for (const raw of ["/%C0%AE", "/%E0%80%AE", "/%ED%A0%80", "/%FF", "/ａpi", "/\u212A", "/a\u00A0"]) {
      expect(normalize(raw, false, true).ok, raw).toBe(false);
    }
  });

  it("never throws, and its output is a fixed point made of its segments", () => {
    const segmentChars = fc.constantFrom(
      "a",
      "b",
      ".",
      "..",
      "%2e",
      "%2E",
      "%2f",
      "%5c",
      "%00",
      "%",
      "%41",
      "é",
      " ",
      "\\",
      "",
    );
    const rawPath = fc.array(
      fc.array(segmentChars, { maxLength: 4 }).map((parts) => parts.join("")),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(rawPath, fc.boolean(), (segments, allow) => {
        const result = normalizePath(pathname(`/${segments.join("/")}`), options(allow, true));
        if (!result.ok) return;
        expect(result.path.startsWith("/")).toBe(true);
        expect(result.segments).not.toContain("..");
        expect(result.segments).not.toContain(".");
        expect(result.segments).not.toContain("");
        const again = normalizePath(pathname(result.path), options(allow, true));
        expect(again).toEqual(result);
      }),
      { numRuns: 2000 },
    );
  });

  it("decides a segment of plain characters exactly as the same segment fully percent-encoded", () => {
    // Every character a segment may carry raw, plus a few it may not: percent-encoding every
    // byte of the path forces the byte-by-byte decoding, which must agree with the plain path.
    const plainChars = fc.constantFrom(..."aZ09-._~!$&'()*+,=:@".split(""), ".", "..", "é", " ", ";", "%41");
    const rawPath = fc.array(
      fc.array(plainChars, { maxLength: 5 }).map((parts) => parts.join("")),
      { maxLength: 6 },
    );
    const encodeAll = (path: string) =>
      path
        .split("/")
        .map((part) =>
          /%/.test(part)
            ? part
            : [...new TextEncoder().encode(part)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
        )
        .join("/");
    fc.assert(
      fc.property(
        rawPath,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (segments, slashes, nonAscii, trailing) => {
          const path = pathname(`/${segments.join("/")}${trailing ? "/" : ""}`);
          const opts = options(slashes, nonAscii);
          expect(normalizePath(path, opts)).toEqual(normalizePath(encodeAll(path), opts));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
