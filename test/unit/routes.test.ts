import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizePath } from "../../src/edge/path";
import { loadPolicy } from "../../src/policy/load";
import { compileRoutes, matchRoute } from "../../src/policy/routes";
import type { Policy } from "../../src/policy/schema";

function policy(fields: Record<string, unknown>): Policy {
  const loaded = loadPolicy({ keyTypes: { k: { prefix: "kk" } }, ...fields });
  if (!loaded.ok) throw new Error(`${loaded.field}: ${loaded.message}`);
  return loaded.policy;
}

function match(routes: ReturnType<typeof compileRoutes>, method: string, raw: string) {
  const path = normalizePath(new URL(`https://h.test${raw}`).pathname, {
    allowEncodedSlashes: false,
    allowNonAscii: false,
  });
  if (!path.ok) throw new Error(path.reason);
  return matchRoute(routes, method, path.segments);
}

describe("matchRoute", () => {
  const routes = compileRoutes(
    policy({
      routes: [
        { path: "/api/v1/assess", methods: ["POST"] },
        { path: "/v1/bots/:id", methods: ["GET"] },
        { path: "/v1/bots/:id", permissions: ["bots:write"] },
        { path: "/api/v1/merchant/*" },
        { path: "/public/*", public: true },
      ],
    }),
  );

  it("matches literal segments and methods, falling through when the method does not match", () => {
    expect(match(routes, "POST", "/api/v1/assess")?.compiled.pattern).toBe("/api/v1/assess");
    expect(match(routes, "GET", "/api/v1/assess")).toBeNull();
    expect(match(routes, "GET", "/v1/bots/7")?.compiled.route.permissions).toEqual([]);
    expect(match(routes, "DELETE", "/v1/bots/7")?.compiled.route.permissions).toEqual(["bots:write"]);
  });

  it("matches literal segments and methods ignoring ASCII case, capturing params as sent", () => {
    expect(match(routes, "post", "/API/V1/Assess")?.compiled.pattern).toBe("/api/v1/assess");
    expect(match(routes, "Get", "/V1/Bots/AbC")?.params).toEqual({ id: "AbC" });
    const exact = compileRoutes(policy({ paths: { caseSensitive: true }, routes: [{ path: "/api/v1" }] }));
    expect(match(exact, "GET", "/api/v1")).not.toBeNull();
    expect(match(exact, "GET", "/API/v1")).toBeNull();
  });

  it("lets GET also match HEAD", () => {
    expect(match(routes, "HEAD", "/v1/bots/7")?.compiled.route.methods).toEqual(["GET"]);
  });

  it("captures :name segments, one segment each", () => {
    expect(match(routes, "GET", "/v1/bots/abc")?.params).toEqual({ id: "abc" });
    expect(match(routes, "GET", "/v1/bots")).toBeNull();
    expect(match(routes, "GET", "/v1/bots/a/b")).toBeNull();
  });

  it("matches a trailing * against any rest, including none", () => {
    for (const path of ["/api/v1/merchant", "/api/v1/merchant/", "/api/v1/merchant/tx/1"]) {
      expect(match(routes, "PUT", path)?.compiled.pattern).toBe("/api/v1/merchant/*");
    }
    expect(match(routes, "PUT", "/api/v1/merchants")).toBeNull();
  });

  it("ignores the query string", () => {
    expect(match(routes, "POST", "/api/v1/assess?x=/public/y")?.compiled.pattern).toBe("/api/v1/assess");
  });

  it("first match wins", () => {
    const first = compileRoutes(policy({ routes: [{ path: "/a/*", public: true }, { path: "/a/b" }] }));
    expect(match(first, "GET", "/a/b")?.compiled.route.public).toBe(true);
  });

  it("turns `unmatched` into a last catch-all route", () => {
    expect(matchRoute(compileRoutes(policy({ routes: [] })), "GET", ["x"])).toBeNull();
    const authenticated = matchRoute(
      compileRoutes(policy({ routes: [], unmatched: "allow-authenticated" })),
      "GET",
      ["x"],
    );
    expect(authenticated?.compiled.route.public).toBe(false);
    const open = matchRoute(compileRoutes(policy({ routes: [], unmatched: "public" })), "GET", ["x"]);
    expect(open?.compiled.route.public).toBe(true);
  });

  it("never throws and never matches a path that escapes a route's prefix", () => {
    const segment = fc.constantFrom(
      "public",
      "admin",
      "a",
      "..",
      ".",
      "%2e%2e",
      "%2f",
      "..%2fadmin",
      "%2e",
      "x%5cy",
      "",
    );
    const prefix = fc.array(fc.constantFrom("public", "a", "b"), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(
        prefix,
        fc.array(segment, { maxLength: 8 }),
        fc.boolean(),
        (prefixSegments, rest, allow) => {
          const pattern = `/${prefixSegments.join("/")}/*`;
          const compiled = compileRoutes(policy({ routes: [{ path: pattern, public: true }] }));
          const raw = `/${[...prefixSegments, ...rest].join("/")}`;
          const path = normalizePath(new URL(`https://h.test${raw}`).pathname, {
            allowEncodedSlashes: allow,
            allowNonAscii: false,
          });
          if (!path.ok) return;
          const found = matchRoute(compiled, "GET", path.segments);
          if (found) {
            // The matched (and forwarded) path lies under the prefix.
            expect(path.segments.slice(0, prefixSegments.length)).toEqual(prefixSegments);
            expect(`${path.path}/`.startsWith(`/${prefixSegments.join("/")}/`)).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
