/**
 * Credentials toward the origin (docs/policy.md#credentials, 3.3, 5): every configured source is stripped on
 * every route, a source present twice with different values is ambiguous, and a session JWT
 * is accepted only as `Authorization: Bearer` and only with `exp`.
 */
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { SESSION_AUDIENCE, SESSION_ISSUER, SESSION_SECRET, TEST_POLICY } from "../fixtures/policy";
import { createKey, createWorkspace, direct, expectProblem, type Json } from "../worker/helpers";

/** The test policy, with a route that reads a query and a header credential of its own. */
const SOURCES_POLICY = {
  POLICY: JSON.stringify({
    ...TEST_POLICY,
    routes: [
      { path: "/query/*", credentials: ["query:api_key", "header:X-Token"] },
      { path: "/session-query/*", auth: ["jwt"], credentials: ["query:token"] },
      ...TEST_POLICY.routes,
    ],
  }),
};

async function echoOf(response: Response): Promise<Json> {
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

function session(withExpiry = true): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ permissions: "dashboard:read" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user_42")
    .setIssuer(SESSION_ISSUER)
    .setAudience(SESSION_AUDIENCE)
    .setIssuedAt(now);
  return (withExpiry ? jwt.setExpirationTime(now + 3_600) : jwt).sign(
    new TextEncoder().encode(SESSION_SECRET),
  );
}

describe("stripping", () => {
  it("removes every configured source on a public route, with every X-Portcullis-* header", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await direct(
      new Request(`https://h.test/public/x?a=1&api_key=${key}&token=${key}&b=2`, {
        headers: {
          Authorization: `Bearer ${key}`,
          "X-API-Key": key,
          "X-Token": key,
          "X-Portcullis-Key-Id": "key_spoofed",
        },
      }),
      SOURCES_POLICY,
    );
    const echo = await echoOf(response);
    expect(echo.query).toBe("a=1&b=2");
    expect(JSON.stringify(echo)).not.toContain(key);
    expect(Object.keys(echo.headers).filter((name) => name.startsWith("x-portcullis-"))).toEqual([]);
  });

  it("removes every configured source on a preflight sent to the origin", async () => {
    const response = await direct(
      new Request("https://h.test/api/products?api_key=secret", {
        method: "OPTIONS",
        headers: { "Access-Control-Request-Method": "GET", "X-API-Key": "secret" },
      }),
      SOURCES_POLICY,
    );
    const echo = await echoOf(response);
    expect(echo.method).toBe("OPTIONS");
    expect(JSON.stringify(echo)).not.toContain("secret");
  });

  it("removes other routes' sources from a keyed request too", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await direct(
      new Request("https://h.test/api/products?api_key=other-copy", {
        headers: { Authorization: `Bearer ${key}`, "X-Token": "other-copy" },
      }),
      SOURCES_POLICY,
    );
    expect(JSON.stringify(await echoOf(response))).not.toContain("other-copy");
  });
});

describe("one source present twice", () => {
  it("is ambiguous with two different X-API-Key headers, fine with the same twice", async () => {
    const ws = await createWorkspace();
    const a = await createKey(ws);
    const b = await createKey(ws);
    const twice = (first: string, second: string) =>
      direct(
        new Request("https://h.test/api/products", {
          headers: [
            ["X-API-Key", first],
            ["X-API-Key", second],
          ],
        }),
      );
    await expectProblem(await twice(a.key, b.key), 400, "ambiguous_credentials");
    expect((await twice(a.key, a.key)).status).toBe(200);
  });

  it("is ambiguous with two different bearer tokens, fine with the same twice", async () => {
    const ws = await createWorkspace();
    const a = await createKey(ws);
    const b = await createKey(ws);
    const twice = (first: string, second: string) =>
      direct(
        new Request("https://h.test/api/products", {
          headers: [
            ["Authorization", `Bearer ${first}`],
            ["Authorization", `Bearer ${second}`],
          ],
        }),
      );
    await expectProblem(await twice(a.key, b.key), 400, "ambiguous_credentials");
    expect((await twice(a.key, a.key)).status).toBe(200);
  });

  it("is ambiguous with two different api_key parameters, fine with the same twice", async () => {
    const ws = await createWorkspace();
    const a = await createKey(ws);
    const b = await createKey(ws);
    const query = (first: string, second: string) =>
      direct(new Request(`https://h.test/query/x?api_key=${first}&api%5Fkey=${second}`), SOURCES_POLICY);
    await expectProblem(await query(a.key, b.key), 400, "ambiguous_credentials");
    const same = await echoOf(await query(a.key, a.key));
    expect(same.query).toBe("");
  });
});

describe("sessions", () => {
  it("treats a JWT outside Authorization: Bearer as an API key, and never forwards it", async () => {
    const token = await session();
    const inHeader = new Request("https://h.test/dashboard/x", { headers: { "X-API-Key": token } });
    await expectProblem(await direct(inHeader), 401, "malformed_key");
    const inQuery = new Request(`https://h.test/session-query/x?token=${token}`);
    await expectProblem(await direct(inQuery, SOURCES_POLICY), 401, "malformed_key");
    const bearer = new Request("https://h.test/dashboard/x", {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect((await direct(bearer)).status).toBe(200);
  });

  it("refuses a session token without exp", async () => {
    const token = await session(false);
    const response = await direct(
      new Request("https://h.test/dashboard/x", { headers: { Authorization: `Bearer ${token}` } }),
    );
    await expectProblem(response, 401, "invalid_token");
  });
});

describe("what the origin could mistake for the client's (found by the outside attack review)", () => {
  it("drops query names an origin folds into the credential's: api.key, api_key[], API_KEY", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const other = await createKey(ws);
    const url = `https://api.example.test/query/x?api_key=${key}&api.key=${other.key}&api_key%5B%5D=${other.key}&API_KEY=${other.key}&+api_key=${other.key}&%20api_key=${other.key}&api_key%00=${other.key}&a=1;api_key=${other.key}&api_key;x=${other.key}&api_key%09=${other.key}&keep=1`;
    const echoed = await echoOf(await direct(new Request(url), SOURCES_POLICY));
    expect(echoed.query).toBe("keep=1");
    expect(JSON.stringify(echoed)).not.toContain(other.key);
  });

  it("never passes on a header claiming the client's address; X-Forwarded-For is Portcullis' own", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const spoofed = {
      "X-Real-IP": "6.6.6.6",
      Forwarded: "for=6.6.6.6",
      "True-Client-IP": "6.6.6.6",
      "X-Client-IP": "6.6.6.6",
      "X-Cluster-Client-IP": "6.6.6.6",
      "X-Forwarded-For": "6.6.6.6",
      "Client-IP": "6.6.6.6",
      "X-Forwarded": "for=6.6.6.6",
      "Forwarded-For": "6.6.6.6",
      "Fastly-Client-IP": "6.6.6.6",
      "X-Originating-IP": "6.6.6.6",
      "X-Remote-IP": "6.6.6.6",
      "X-Remote-Addr": "6.6.6.6",
      "X-ProxyUser-Ip": "6.6.6.6",
      "X-Envoy-External-Address": "6.6.6.6",
      "CF-Connecting-IPv6": "6.6.6.6",
      "X-Original-URL": "/6.6.6.6/admin",
      "X-Rewrite-URL": "/6.6.6.6/admin",
      "X-Host": "6.6.6.6",
      "CF-Connecting-IP": "203.0.113.7",
    };
    for (const path of ["/api/products", "/public/page"]) {
      const request = new Request(`https://api.example.test${path}`, {
        headers: { Authorization: `Bearer ${key}`, ...spoofed },
      });
      const echoed = await echoOf(await direct(request));
      expect(JSON.stringify(echoed.headers), path).not.toContain("6.6.6.6");
      expect(echoed.headers["x-forwarded-for"], path).toBe("203.0.113.7");
    }
  });

  it("signs the host the client addressed and a unique id into the assertion", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const request = new Request("https://api.example.test:8443/api/products", {
        headers: { Authorization: `Bearer ${key}` },
      });
      const echoed = await echoOf(await direct(request));
      const token = echoed.headers["x-portcullis-assertion"] as string;
      const claims = JSON.parse(atob((token.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/")));
      expect(claims.host).toBe("api.example.test:8443");
      ids.add(claims.jti);
    }
    expect(ids.size).toBe(3);
  });
});
