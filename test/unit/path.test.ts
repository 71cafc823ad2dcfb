import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizePath } from "../../src/gateway/path";

/** What the Workers URL parser makes of a raw path, as the proxy sees it. */
function pathname(raw: string): string {
  return new URL(`https://host.test${raw}`).pathname;
}

function normalize(raw: string, allowEncodedSlashes = false) {
  return normalizePath(pathname(raw), allowEncodedSlashes);
}

describe("normalizePath", () => {
  it.each([
    ["/a/b", "/a/b", ["a", "b"]],
    ["/a//b///c", "/a/b/c", ["a", "b", "c"]],
    ["/a/./b/../c", "/a/c", ["a", "c"]],
    ["/a/%2e%2e/b", "/b", ["b"]],
    ["/a/.%2E/b", "/b", ["b"]],
    ["/a\\..\\b", "/b", ["b"]],
    ["/caf%C3%A9/%41", "/caf%C3%A9/A", ["café", "A"]],
    ["/a/b/", "/a/b/", ["a", "b"]],
    ["/", "/", []],
    ["/users/me@example.com:x", "/users/me@example.com:x", ["users", "me@example.com:x"]],
    ["/a%20b", "/a%20b", ["a b"]],
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
    expect(normalizePath("/a/../..", false).ok).toBe(false);
    expect(normalizePath("/..", false).ok).toBe(false);
    expect(normalize("/a/%zz").ok).toBe(false);
    expect(normalize("/a/%C3%28").ok).toBe(false);
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
        const result = normalizePath(pathname(`/${segments.join("/")}`), allow);
        if (!result.ok) return;
        expect(result.path.startsWith("/")).toBe(true);
        expect(result.segments).not.toContain("..");
        expect(result.segments).not.toContain(".");
        expect(result.segments).not.toContain("");
        const again = normalizePath(pathname(result.path), allow);
        expect(again).toEqual(result);
      }),
      { numRuns: 2000 },
    );
  });
});
