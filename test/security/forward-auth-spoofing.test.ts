/**
 * Attack class: spoofed forward-auth headers. A proxy passes its client's headers to
 * forward-auth, so every header it does not set itself is the client's word. Forward-auth must
 * read the original method, URI, scheme, host and client IP only from the calling proxy's row
 * (nginx: X-Original-*, X-Real-IP; Traefik and Caddy: X-Forwarded-*; Envoy: the call itself),
 * refuse a call that lacks one or names no proxy, and answer nginx only with statuses that
 * nginx passes on.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checksumOf } from "../../src/keys/format";
import { TEST_POLICY } from "../fixtures/policy";
import { createKey, createWorkspace, direct, expectProblem } from "../worker/helpers";

type Proxy = "nginx" | "traefik" | "caddy" | "envoy";

const AUTHORIZE = "/_portcullis/v1/authorize";
const HOST = "api.example.com";
/** The client's real address, as the proxy reports it. */
const CLIENT_IP = "203.0.113.9";
/** The address a key below is restricted to, which the attacker claims. */
const ALLOWED_NET = "198.51.100.0/24";
const CLAIMED_IP = "198.51.100.9";

interface Original {
  method: string;
  uri: string;
  scheme?: string;
  ip?: string;
  key?: string;
}

/**
 * The call each proxy makes for `original`, with its own headers set as docs/forward-auth.md configures
 * it; `spoofed` are the client's headers, which the proxy passes along.
 */
function callOf(
  proxy: Proxy,
  original: Original,
  spoofed: Record<string, string> = {},
  query = `?proxy=${proxy}`,
) {
  const { method, uri, scheme = "https", ip = CLIENT_IP, key } = original;
  const client = { ...spoofed, ...(key ? { "X-API-Key": key } : {}) };
  if (proxy === "envoy") {
    return new Request(`http://${HOST}${AUTHORIZE}${uri}`, {
      method,
      headers: { ...client, "X-Forwarded-Proto": scheme, "X-Forwarded-For": `${CLAIMED_IP}, ${ip}` },
    });
  }
  const own: Record<string, string> =
    proxy === "nginx"
      ? { "X-Original-Method": method, "X-Original-URI": uri, "X-Real-IP": ip }
      : { "X-Forwarded-Method": method, "X-Forwarded-Uri": uri, "X-Forwarded-For": ip };
  return new Request(`http://portcullis.internal${AUTHORIZE}${query}`, {
    headers: { ...client, ...own, "X-Forwarded-Proto": scheme, "X-Forwarded-Host": HOST },
  });
}

function ask(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

/** Each header a client may send to fool a row that does not read it, and what it tries. */
const ATTACKS = {
  uri: { spoof: "/public/free", original: { method: "GET", uri: "/api/products" } },
  method: { spoof: "GET", original: { method: "POST", uri: "/api/products" } },
  ip: { spoof: CLAIMED_IP, original: { method: "GET", uri: "/api/products" } },
  host: { spoof: "localhost", original: { method: "GET", uri: "/public/free", scheme: "http" } },
} as const;

const FOREIGN: Record<Proxy, [string, keyof typeof ATTACKS][]> = {
  nginx: [
    ["X-Forwarded-Uri", "uri"],
    ["X-Forwarded-Method", "method"],
    ["X-Forwarded-For", "ip"],
  ],
  traefik: [
    ["X-Original-URI", "uri"],
    ["X-Original-Method", "method"],
    ["X-Real-IP", "ip"],
  ],
  caddy: [
    ["X-Original-URI", "uri"],
    ["X-Original-Method", "method"],
    ["X-Real-IP", "ip"],
  ],
  envoy: [
    ["X-Original-URI", "uri"],
    ["X-Forwarded-Uri", "uri"],
    ["X-Original-Method", "method"],
    ["X-Forwarded-Method", "method"],
    ["X-Real-IP", "ip"],
    ["X-Forwarded-Host", "host"],
  ],
};

const EXPECTED_DENIAL = {
  uri: [401, "missing_credential"],
  method: [403, "insufficient_permissions"],
  ip: [403, "ip_not_allowed"],
  host: [403, "https_required"],
} as const;

const PROXIES: Proxy[] = ["nginx", "traefik", "caddy", "envoy"];

describe("forward-auth reads only the calling proxy's row", () => {
  it.each(PROXIES)("%s: a client's header of another row changes nothing", async (proxy) => {
    const ws = await createWorkspace();
    const readOnly = await createKey(ws, { permissions: ["products:read"] });
    const restricted = await createKey(ws, { ipAllowlist: [ALLOWED_NET] });
    for (const [header, kind] of FOREIGN[proxy]) {
      const { spoof, original } = ATTACKS[kind];
      const key = kind === "method" ? readOnly.key : kind === "ip" ? restricted.key : undefined;
      const response = await ask(callOf(proxy, { ...original, key }, { [header]: spoof }));
      const [status, code] = EXPECTED_DENIAL[kind];
      await expectProblem(response, status, code);
    }
  });

  it("nginx: a spoofed X-Forwarded-Uri gets no unauthenticated DELETE to an admin path", async () => {
    const response = await ask(
      callOf("nginx", { method: "DELETE", uri: "/api/admin/users/1" }, { "X-Forwarded-Uri": "/public/x" }),
    );
    await expectProblem(response, 401, "missing_credential");
  });

  it("nginx: a spoofed X-Forwarded-Method OPTIONS with Access-Control-Request-Method is no preflight", async () => {
    const response = await ask(
      callOf(
        "nginx",
        { method: "DELETE", uri: "/api/products" },
        {
          "X-Forwarded-Method": "OPTIONS",
          "Access-Control-Request-Method": "DELETE",
          Origin: "https://evil.example",
        },
      ),
    );
    await expectProblem(response, 401, "missing_credential");
  });

  it("Caddy: a spoofed X-Real-IP does not move a client under the abuse limit's radar", async () => {
    const codes: string[] = [];
    for (let i = 0; i < 61; i++) {
      const body = `Spoof${String(i).padStart(27, "0")}`;
      const response = await ask(
        callOf(
          "caddy",
          {
            method: "GET",
            uri: "/api/products",
            ip: "192.0.2.61",
            key: `sk_test_${body}_${checksumOf(body)}`,
          },
          { "X-Real-IP": `10.61.0.${i}` },
        ),
      );
      codes.push(response.headers.get("x-portcullis-code") ?? "");
    }
    expect(codes.slice(0, 60)).toEqual(Array(60).fill("invalid_key"));
    expect(codes[60]).toBe("rate_limited");
  });
});

describe("a forward-auth call without its row's headers", () => {
  const REQUIRED: Record<Proxy, string[]> = {
    nginx: ["X-Original-Method", "X-Original-URI", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP"],
    traefik: [
      "X-Forwarded-Method",
      "X-Forwarded-Uri",
      "X-Forwarded-Proto",
      "X-Forwarded-Host",
      "X-Forwarded-For",
    ],
    caddy: [
      "X-Forwarded-Method",
      "X-Forwarded-Uri",
      "X-Forwarded-Proto",
      "X-Forwarded-Host",
      "X-Forwarded-For",
    ],
    envoy: ["X-Forwarded-Proto", "X-Forwarded-For"],
  };

  it.each(PROXIES)("%s: is 400 bad_request (403 to nginx), whatever else the client sent", async (proxy) => {
    for (const name of REQUIRED[proxy]) {
      const call = callOf(proxy, ATTACKS.uri.original, {
        "X-Original-URI": "/public/x",
        "X-Forwarded-Uri": "/public/x",
        "X-Real-IP": CLIENT_IP,
        "X-Forwarded-For": CLIENT_IP,
        "X-Original-Method": "GET",
        "X-Forwarded-Method": "GET",
      });
      call.headers.delete(name);
      const response = await ask(call);
      const body = await expectProblem(response, proxy === "nginx" ? 403 : 400, "bad_request");
      expect(body.detail, name).toContain(name.toLowerCase());
    }
  });
});

describe("which proxy is calling", () => {
  const withPolicy = (forwardAuth: unknown) => ({ POLICY: JSON.stringify({ ...TEST_POLICY, forwardAuth }) });

  it("refuses P/v1/authorize that names no proxy, an unknown one or two", async () => {
    for (const query of ["", "?proxy=haproxy", "?compat=traefik", "?proxy=nginx&proxy=caddy"]) {
      const response = await ask(callOf("traefik", ATTACKS.uri.original, {}, query));
      expect(response.headers.get("x-portcullis-code"), query).toBe("bad_request");
    }
  });

  it("takes the policy's forwardAuth.proxy, and refuses a ?proxy= that differs from it", async () => {
    const nginxPolicy = withPolicy({ proxy: "nginx" });
    const spoofed = { "X-Forwarded-Uri": "/public/x", "X-Forwarded-Method": "GET" };
    const unnamed = callOf("nginx", { method: "DELETE", uri: "/api/products" }, spoofed, "");
    await expectProblem(await direct(unnamed, nginxPolicy), 401, "missing_credential");
    const other = callOf("traefik", { method: "GET", uri: "/public/x" }, {}, "?proxy=traefik");
    const refused = await expectProblem(await direct(other, nginxPolicy), 400, "bad_request");
    expect(refused.detail).toContain("forwardAuth.proxy");
    const caddyPolicy = withPolicy({ proxy: "caddy" });
    const named = callOf("nginx", { method: "GET", uri: "/public/x" }, {}, "?proxy=nginx");
    const asNginx = await direct(named, caddyPolicy);
    expect(asNginx.status).toBe(403);
    expect(asNginx.headers.get("x-portcullis-status")).toBe("400");
  });

  it("reads P/v1/authorize/<path> as Envoy, whatever its query or the policy name", async () => {
    const spoofed = {
      "X-Original-URI": "/public/x",
      "X-Original-Method": "GET",
      "X-Forwarded-Uri": "/public/x",
    };
    const call = () =>
      new Request(`http://${HOST}${AUTHORIZE}/api/products?proxy=nginx&compat=nginx`, {
        method: "POST",
        headers: { ...spoofed, "X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_IP },
      });
    await expectProblem(await ask(call()), 401, "missing_credential");
    await expectProblem(await direct(call(), withPolicy({ proxy: "nginx" })), 401, "missing_credential");
  });
});

describe("a reported URI that normalisation would change", () => {
  it.each(["nginx", "caddy"] as const)("%s: is refused before the URL parser resolves it", async (proxy) => {
    for (const uri of [
      "/api/admin/%2e%2e/%2e%2e/public/x",
      "/api/admin/%2E%2e/../public/x",
      "/api/admin/../../public/x",
      "/api/admin\\..\\..\\public\\x",
      "/api/admin/%5c..%5c..%5cpublic/x",
      "//public/x",
      "/api/admin/\t../../public/x",
    ]) {
      const response = await ask(callOf(proxy, { method: "GET", uri }));
      await expectProblem(response, proxy === "nginx" ? 403 : 400, "bad_request");
    }
  });
});

describe("answers to nginx", () => {
  const nginx = (uri: string, key?: string) => callOf("nginx", { method: "GET", uri, key });
  const failingDb = {
    prepare() {
      throw new Error("D1_ERROR: database unavailable");
    },
    batch() {
      return Promise.reject(new Error("D1_ERROR: database unavailable"));
    },
  } as unknown as D1Database;

  async function expectForNginx(response: Response, status: number, code: string) {
    await expectProblem(response, 403, code);
    expect(response.headers.get("x-portcullis-status")).toBe(String(status));
  }

  it("turns 400, 404, 429 and 503 into 403 with X-Portcullis-Status, keeping Retry-After", async () => {
    await expectForNginx(await ask(nginx("/a%2fb")), 400, "bad_request");
    await expectForNginx(await ask(nginx("/nowhere")), 404, "route_not_found");
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { limits: { minute: 1 } });
    expect((await ask(nginx("/api/products", key))).status).toBe(200);
    const limited = await ask(nginx("/api/products", key));
    await expectForNginx(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const cold = await createKey(ws);
    const unavailable = await direct(nginx("/api/products", cold.key), { DB: failingDb });
    await expectForNginx(unavailable, 503, "unavailable");
    expect(unavailable.headers.get("retry-after")).toBe("1");
  });

  it("answers ?compat=nginx like ?proxy=nginx", async () => {
    const response = await ask(callOf("nginx", { method: "GET", uri: "/nowhere" }, {}, "?compat=nginx"));
    await expectForNginx(response, 404, "route_not_found");
  });
});

describe("the policy option", () => {
  it("accepts forwardAuth.proxy only as one of the four proxies, in a strict object", async () => {
    for (const forwardAuth of [{ proxy: "haproxy" }, { proxy: "nginx", trust: true }]) {
      const response = await direct(new Request(`http://${HOST}/_portcullis/health`), {
        POLICY: JSON.stringify({ ...TEST_POLICY, forwardAuth }),
      });
      const body = await expectProblem(response, 500, "policy_invalid");
      expect(body.detail).toContain("forwardAuth");
    }
    const valid = await direct(new Request(`http://${HOST}/_portcullis/health`), {
      POLICY: JSON.stringify({ ...TEST_POLICY, forwardAuth: { proxy: "envoy" } }),
    });
    expect(valid.status).toBe(200);
  });
});
