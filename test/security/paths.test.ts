/**
 * Path confusion toward the origin (docs/policy.md): a path that origins could read differently from
 * the route Portcullis matched is refused with 400 before matching, literal segments match
 * ignoring ASCII case, and the origin receives exactly the canonical path that was checked.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { verify } from "hono/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import { SIGNING_SECRET, TEST_POLICY } from "../fixtures/policy";
import { call, createKey, createWorkspace, direct, expectProblem, type Json } from "../worker/helpers";

const AUTHORIZE = "http://portcullis.internal/_portcullis/v1/authorize";

function withPolicy(fields: Json): { POLICY: string } {
  return { POLICY: JSON.stringify({ ...TEST_POLICY, ...fields }) };
}

/**
 * How a lenient origin may read a path: percent-decoded before splitting, `\` as `/`, matrix
 * parameters cut at `;`, NFKC-folded, case-insensitive, trailing dots and whitespace dropped,
 * dot segments resolved. Independent of Portcullis' own normalisation on purpose.
 */
function lenientSegments(path: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  const segments: string[] = [];
  for (const part of decoded.split(/[/\\]/)) {
    const folded = (part.split(";")[0] as string).normalize("NFKC").toLowerCase();
    if (folded === "..") segments.pop();
    else if (folded !== "." && folded !== "") {
      const trimmed = folded.replace(/[.\s]+$/u, "");
      if (trimmed !== "") segments.push(trimmed);
    }
  }
  return segments;
}

/** The path's own segments, decoded once and lower-cased: what the route was matched on. */
function strictSegments(path: string): string[] {
  return path
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => decodeURIComponent(segment).toLowerCase());
}

/** RFC 3986 pchar raw (without `;`), every other byte `%XX` in upper case. */
const CANONICAL_PATH = /^(\/([A-Za-z0-9\-._~!$&'()*+,=:@]|%[0-9A-F]{2})+)*\/?$/;

const WORDS = [
  "api",
  "API",
  "Api",
  "ａpi",
  "server-only",
  "Server-Only",
  "SERVER-ONLY",
  "ｓerver-only",
  "products",
  "public",
  "Public",
  "x",
];
const DOT_SEGMENTS = [".", "..", "%2e", "%2E", "%2e%2e", ".%2E", "..;", ";", "%3b", "%3B", ""];
const DECORATIONS = [
  ".",
  "..",
  "%2e",
  "%2E",
  ";",
  "%3b",
  "%3B",
  ";x=1",
  "%00",
  "%2f",
  "%2F",
  "%5c",
  "%20",
  "%09",
  "%7f",
  "%C0%AE",
  "%",
  "%zz",
  "é",
  "%C3%A9",
  "％2e",
  "/",
  "//",
];

const word = fc.constantFrom(...WORDS);
const decoration = fc.constantFrom(...DECORATIONS);
const segment = fc.oneof(
  { arbitrary: word, weight: 8 },
  { arbitrary: fc.tuple(word, decoration).map(([w, d]) => `${w}${d}`), weight: 2 },
  { arbitrary: fc.tuple(decoration, word).map(([d, w]) => `${d}${w}`), weight: 1 },
  { arbitrary: fc.constantFrom(...DOT_SEGMENTS), weight: 3 },
);
const dangerousPath = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([segments, trailingSlash]) => `/${segments.join("/")}${trailingSlash ? "/" : ""}`);

describe("paths that origins read differently are refused before matching", () => {
  it.each([
    ["matrix parameter climbing out of a public route", "/public/..;/api/server-only/x"],
    ["encoded semicolon", "/public/..%3B/api/server-only/x"],
    ["semicolon inside a segment", "/api/server-only;x=1/x"],
    ["segment ending in a dot", "/api/server-only./x"],
    ["segment ending in an encoded dot", "/api/server-only%2e/x"],
    ["segment ending in an encoded space", "/api/server-only%20/x"],
    ["encoded tab", "/api/server-only%09/x"],
    ["raw control character", "/api/server-only\u0001/x"],
    ["DEL", "/api/server-only%7F/x"],
    ["fullwidth letter", "/api/ｓerver-only/x"],
    ["encoded non-ASCII", "/api/caf%C3%A9"],
  ])("%s: %s", async (_, path) => {
    await expectProblem(await call(path), 400, "bad_request");
  });

  it("refuses the same paths on forward-auth", async () => {
    for (const uri of [
      "/public/..;/api/server-only/x",
      "/api/server-only./x",
      "/api/%EF%BD%93erver-only/x",
    ]) {
      const response = await exports.default.fetch(
        new Request(AUTHORIZE, {
          headers: { "X-Forwarded-Method": "GET", "X-Forwarded-Proto": "https", "X-Forwarded-Uri": uri },
        }),
      );
      await expectProblem(response, 400, "bad_request");
    }
  });
});

describe("case", () => {
  it("matches literal segments ignoring ASCII case, and forwards the client's case", async () => {
    const ws = await createWorkspace();
    const browser = await createKey(ws, { type: "browser" });
    await expectProblem(await call("/api/Server-Only/x", { key: browser.key }), 403, "wrong_key_type");
    await expectProblem(await call("/API/SERVER-ONLY/x", { key: browser.key }), 403, "wrong_key_type");
    const server = await createKey(ws);
    const response = await call("/api/Server-Only/X", { key: server.key });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).path).toBe("/api/Server-Only/X");
  });

  it("with paths.caseSensitive, matches literal segments exactly", async () => {
    const ws = await createWorkspace();
    const browser = await createKey(ws, { type: "browser" });
    const request = new Request("https://h.test/api/Server-Only/x", {
      headers: { Authorization: `Bearer ${browser.key}` },
    });
    const response = await direct(request, withPolicy({ paths: { caseSensitive: true } }));
    expect(response.status).toBe(200);
  });
});

describe("non-ASCII paths", () => {
  it("with paths.allowNonAscii, forwards valid UTF-8 re-encoded canonically, never an overlong form", async () => {
    const policy = withPolicy({ paths: { allowNonAscii: true } });
    const response = await direct(new Request("https://h.test/public/caf%c3%a9/%e2%82%ac"), policy);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).path).toBe("/public/caf%C3%A9/%E2%82%AC");
    const overlong = await direct(new Request("https://h.test/public/%C0%AE%C0%AE/x"), policy);
    await expectProblem(overlong, 400, "bad_request");
    await expectProblem(
      await direct(new Request("https://h.test/public/%ED%A0%80"), policy),
      400,
      "bad_request",
    );
  });
});

describe("property: the origin receives exactly the path that was checked", () => {
  let browserKey = "";
  beforeAll(async () => {
    const ws = await createWorkspace();
    browserKey = (await createKey(ws, { type: "browser" })).key;
  });

  it("is 400, or forwards a canonical path that every lenient reading puts in the same route", async () => {
    let forwardedCount = 0;
    await fc.assert(
      fc.asyncProperty(dangerousPath, fc.boolean(), async (path, withKey) => {
        const response = await call(path, withKey ? { key: browserKey } : {});
        expect([200, 400, 401, 403, 404]).toContain(response.status);
        if (response.status !== 200) return;
        forwardedCount += 1;
        const echo = (await response.json()) as Json;
        const forwarded = echo.path as string;
        expect(forwarded).toMatch(CANONICAL_PATH);
        // Nothing left for an origin to read differently from the route that was matched.
        expect(lenientSegments(forwarded)).toEqual(strictSegments(forwarded));
        const lenient = lenientSegments(forwarded);
        // The browser key never reaches the server-only route; without a key, only /public/*.
        expect(lenient.slice(0, 2)).not.toEqual(["api", "server-only"]);
        if (!withKey) expect(lenient[0]).toBe("public");
        const assertion = echo.headers["x-portcullis-assertion"];
        if (assertion) {
          const claims = await verify(assertion, SIGNING_SECRET, "HS256");
          expect(claims.path).toBe(forwarded);
        }
      }),
      { numRuns: 300 },
    );
    // The property says nothing if every path was refused: the origin saw some of them.
    expect(forwardedCount).toBeGreaterThan(0);
  });
});
