import { describe, expect, it } from "vitest";
import { chooseProxy, forwardedFacts } from "../../src/edge/request-facts";
import type { ForwardAuthProxy } from "../../src/policy/schema";

const ORIGIN = "http://portcullis.internal:8787";
const AUTHORIZE_PATH = "/_portcullis/v1/authorize";
const AUTHORIZE = `${ORIGIN}${AUTHORIZE_PATH}`;

/** The call as it arrives: a raw URL string, so that nothing resolves its dot segments first. */
function facts(proxy: ForwardAuthProxy, headers: Record<string, string>, url = AUTHORIZE, method = "GET") {
  return forwardedFacts({ method, url, headers: new Headers(headers) }, proxy, AUTHORIZE_PATH);
}

/** What each proxy sets itself, written out here (not taken from the table under test). */
const ROWS: Record<ForwardAuthProxy, { headers: Record<string, string>; url: string; method: string }> = {
  nginx: {
    headers: {
      "X-Original-Method": "DELETE",
      "X-Original-URI": "/api/items/7?page=2",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "api.example.com",
      "X-Real-IP": "198.51.100.4",
    },
    url: `${AUTHORIZE}?proxy=nginx`,
    method: "GET",
  },
  traefik: {
    headers: {
      "X-Forwarded-Method": "delete",
      "X-Forwarded-Uri": "/api/items/7?page=2",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "api.example.com",
      "X-Forwarded-For": "203.0.113.250, 198.51.100.4",
    },
    url: `${AUTHORIZE}?proxy=traefik`,
    method: "GET",
  },
  caddy: {
    headers: {
      "X-Forwarded-Method": "DELETE",
      "X-Forwarded-Uri": "/api/items/7?page=2",
      "X-Forwarded-Proto": "HTTPS",
      "X-Forwarded-Host": "api.example.com",
      "X-Forwarded-For": "198.51.100.4",
    },
    url: `${AUTHORIZE}?proxy=caddy`,
    method: "GET",
  },
  envoy: {
    headers: { "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.250,198.51.100.4" },
    url: "http://api.example.com/_portcullis/v1/authorize/api/items/7?page=2",
    method: "DELETE",
  },
};

const EXPECTED = {
  method: "DELETE",
  pathname: "/api/items/7",
  rawQuery: "page=2",
  scheme: "https",
  host: "api.example.com",
  clientIp: "198.51.100.4",
};

/** Every header some row reads, each with a value that would change the decision. */
const SPOOFS: Record<string, string> = {
  "X-Original-Method": "GET",
  "X-Original-URI": "/public/spoofed",
  "X-Forwarded-Method": "OPTIONS",
  "X-Forwarded-Uri": "/public/spoofed",
  "X-Real-IP": "10.66.0.1",
  "X-Forwarded-For": "10.66.0.2",
  "X-Forwarded-Proto": "http",
  "X-Forwarded-Host": "localhost",
};

const PROXIES = Object.keys(ROWS) as ForwardAuthProxy[];

describe("forward-auth request facts", () => {
  it.each(PROXIES)("%s: reads the method, URI, scheme, host and client IP from its own row", (proxy) => {
    const { headers, url, method } = ROWS[proxy];
    expect(facts(proxy, headers, url, method)).toMatchObject({ ok: true, facts: EXPECTED });
  });

  it.each(PROXIES)("%s: ignores every header of the other rows", (proxy) => {
    const { headers, url, method } = ROWS[proxy];
    const own = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
    const others = Object.entries(SPOOFS).filter(([name]) => !own.has(name.toLowerCase()));
    expect(others.length).toBeGreaterThan(0);
    const spoofed = facts(proxy, { ...Object.fromEntries(others), ...headers }, url, method);
    expect(spoofed).toMatchObject({ ok: true, facts: EXPECTED });
  });

  it.each(PROXIES)("%s: refuses a call missing a header of its row", (proxy) => {
    const { headers, url, method } = ROWS[proxy];
    for (const name of Object.keys(headers)) {
      const without = Object.fromEntries(Object.entries(headers).filter(([other]) => other !== name));
      const result = facts(proxy, { ...SPOOFS, ...without, [name]: "" }, url, method);
      expect(result, name).toMatchObject({ ok: false });
      expect(facts(proxy, without, url, method), name).toMatchObject({ ok: false });
    }
  });

  it("refuses a method, scheme, host or client IP that is not one", () => {
    const nginx = ROWS.nginx.headers;
    for (const [name, value] of [
      ["X-Original-Method", "GET, POST"],
      ["X-Original-Method", "GE T"],
      ["X-Forwarded-Proto", "https, http"],
      ["X-Forwarded-Proto", "ftp"],
      ["X-Forwarded-Host", "a.example, b.example"],
      ["X-Real-IP", "198.51.100.4, 10.0.0.1"],
      ["X-Real-IP", "unknown"],
    ]) {
      expect(
        facts("nginx", { ...nginx, [name as string]: value as string }),
        `${name}: ${value}`,
      ).toMatchObject({
        ok: false,
      });
    }
    expect(facts("caddy", { ...ROWS.caddy.headers, "X-Forwarded-For": "198.51.100.4, " })).toMatchObject({
      ok: false,
    });
  });

  it("refuses a reported URI that normalisation would change, in every encoding", () => {
    const uris = [
      "/public/../api/admin",
      "/public/./x",
      "/public/%2e%2e/api",
      "/public/%2E%2e/api",
      "/public/.%2E/api",
      "/public/%2e/api",
      "/public/..",
      "/public\\..\\api",
      "/public/%5c/api",
      "/public/%5C..%5Capi",
      "//api/admin",
      "/public//api",
      "/public/x#/../../api",
      "/pub\tlic/x",
      "/public/a b",
      "/public/caf\u00e9",
      "http://evil.example/api",
      "*",
    ];
    for (const uri of uris) {
      for (const proxy of ["nginx", "traefik"] as const) {
        const name = proxy === "nginx" ? "X-Original-URI" : "X-Forwarded-Uri";
        const result = facts(proxy, { ...ROWS[proxy].headers, [name]: uri });
        expect(result, `${proxy} ${uri}`).toMatchObject({ ok: false });
      }
    }
  });

  it("refuses Envoy's path when it has dot segments as written in the call", () => {
    for (const path of ["/public/../api", "/public/%2e%2E/api", "//api", "/a%5cb"]) {
      const url = `${ORIGIN}${AUTHORIZE_PATH}${path}`;
      expect(facts("envoy", ROWS.envoy.headers, url), path).toMatchObject({ ok: false });
    }
  });

  it("keeps dots that are no dot segment, and dot segments in the query", () => {
    const result = facts("nginx", {
      ...ROWS.nginx.headers,
      "X-Original-URI": "/api/v1.2/.well-known/a..b?x=/../y",
    });
    expect(result).toMatchObject({
      ok: true,
      facts: { pathname: "/api/v1.2/.well-known/a..b", rawQuery: "x=/../y" },
    });
  });
});

describe("which proxy a forward-auth call comes from", () => {
  const choose = (target: string, configured?: ForwardAuthProxy) =>
    chooseProxy(`${ORIGIN}${target}`, AUTHORIZE_PATH, configured);

  it("reads P/v1/authorize/<path> as Envoy, whatever its query names", () => {
    expect(choose(`${AUTHORIZE_PATH}/api/x?proxy=nginx`)).toEqual({ ok: true, proxy: "envoy" });
    expect(choose(`${AUTHORIZE_PATH}/api/x?compat=nginx`, "caddy")).toEqual({ ok: true, proxy: "envoy" });
    expect(choose(`${AUTHORIZE_PATH}/`, "traefik")).toEqual({ ok: true, proxy: "envoy" });
  });

  it("takes ?proxy=, its alias ?compat=nginx, or the policy's proxy", () => {
    expect(choose(`${AUTHORIZE_PATH}?proxy=traefik`)).toEqual({ ok: true, proxy: "traefik" });
    expect(choose(`${AUTHORIZE_PATH}?compat=nginx`)).toEqual({ ok: true, proxy: "nginx" });
    expect(choose(`${AUTHORIZE_PATH}?proxy=nginx&compat=nginx`)).toEqual({ ok: true, proxy: "nginx" });
    expect(choose(AUTHORIZE_PATH, "caddy")).toEqual({ ok: true, proxy: "caddy" });
    expect(choose(`${AUTHORIZE_PATH}?proxy=caddy`, "caddy")).toEqual({ ok: true, proxy: "caddy" });
  });

  it("refuses a call that names no proxy, an unknown one, two, or another than the policy's", () => {
    for (const [target, configured] of [
      [AUTHORIZE_PATH, undefined],
      [`${AUTHORIZE_PATH}?proxy=haproxy`, undefined],
      [`${AUTHORIZE_PATH}?compat=traefik`, undefined],
      [`${AUTHORIZE_PATH}?proxy=nginx&proxy=caddy`, undefined],
      [`${AUTHORIZE_PATH}?proxy=traefik`, "nginx"],
      [`${AUTHORIZE_PATH}?compat=nginx`, "caddy"],
    ] as const) {
      expect(choose(target, configured), `${target} ${configured}`).toMatchObject({ ok: false });
    }
  });

  it("refuses P/v1/authorize written in another form than the route's", () => {
    expect(choose("/_portcullis/v1/%61uthorize?proxy=nginx")).toMatchObject({ ok: false });
  });

  it("says when nginx may be the caller of a refused call, so that it gets a 403", () => {
    expect(choose(`${AUTHORIZE_PATH}?proxy=nginx`, "caddy")).toMatchObject({ nginxMayCall: true });
    expect(choose(`${AUTHORIZE_PATH}?proxy=nginx&proxy=x`)).toMatchObject({ nginxMayCall: true });
    expect(choose(`${AUTHORIZE_PATH}?proxy=traefik`, "nginx")).toMatchObject({ nginxMayCall: false });
    expect(choose(AUTHORIZE_PATH)).toMatchObject({ nginxMayCall: false });
  });
});
