/**
 * Attack class: token confusion, `alg` tricks, JWKS key ids and hostile claims on the portal
 * (docs/portal.md). Only the provider's token for the portal authenticates: the route session
 * tokens of `policy.jwt`, Portcullis' own assertions, the admin token, admin keys and API keys
 * are all 401 `invalid_token`; a claim that is missing, not a string, an array where one value
 * is expected, inherited from a prototype or over-long denies; failed tokens count toward the
 * client IP's abuse limit.
 */
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ROOT_TOKEN,
  SESSION_AUDIENCE,
  SESSION_ISSUER,
  SESSION_SECRET,
  SIGNING_SECRET,
} from "../fixtures/policy";
import { call, createKey, expectProblem, type Json } from "../worker/helpers";
import {
  member,
  memberToken,
  organisation,
  PORTAL_AUDIENCE,
  PORTAL_ISSUER,
  portal,
  portalEnv,
  portalFetch,
} from "./portal-support";

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

function encodePart(value: Json): string {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

afterEach(() => {
  vi.restoreAllMocks();
});

async function expectInvalid(token: string, environment?: Partial<Env>) {
  const response = await portalFetch("GET", "/session", { token, ...(environment && { env: environment }) });
  const problem = await expectProblem(response, 401, "invalid_token");
  expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
  expect(JSON.stringify(problem)).not.toContain(token);
  return problem;
}

describe("portal: token confusion", () => {
  it("answers 404 for every portal path when the policy has no portal", async () => {
    const { org } = await organisation();
    const token = await member(org, "owner");
    const response = await portalFetch("GET", "/session", { token, env: { POLICY: env.POLICY } });
    await expectProblem(response, 404, "not_found");
  });

  it("accepts the provider's token for the portal", async () => {
    const { org } = await organisation();
    const session = await portal("GET", "/session", { token: await member(org, "owner") });
    expect(session.status, session.text).toBe(200);
  });

  it("refuses API keys, admin keys and the admin token as bearers", async () => {
    const ws = await organisation();
    const apiKey = await createKey(ws.id, { type: "server" });
    const adminKey = await createKey(ws.id, { type: "admin", permissions: ["*"] });
    await expectInvalid(apiKey.key);
    await expectInvalid(adminKey.key);
    await expectInvalid(ROOT_TOKEN);
    await expectProblem(await portalFetch("GET", "/session"), 401, "invalid_token");
  });

  it("refuses the route session tokens of policy.jwt", async () => {
    const { org } = await organisation();
    const now = Math.floor(Date.now() / 1000);
    const routeToken = await new SignJWT({ org_id: org, org_role: "owner" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user_1")
      .setIssuer(SESSION_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(SESSION_SECRET));
    await expectInvalid(routeToken);
    // The same secret does not help when the audience is the routes'.
    const sameSecret = portalEnv({}, {});
    (sameSecret as Json).PORTAL_SECRET = SESSION_SECRET;
    await expectInvalid(routeToken, sameSecret);
  });

  it("refuses Portcullis' own assertions, and any token with iss portcullis", async () => {
    const { org } = await organisation();
    const ws = await organisation();
    const { key } = await createKey(ws.id, { type: "server" });
    const echoed = (await (await call("/api/products", { key })).json()) as Json;
    const assertion = echoed.headers["x-portcullis-assertion"] as string;
    expect(assertion.split(".")).toHaveLength(3);
    await expectInvalid(assertion);
    const own = await memberToken({ org_id: org, org_role: "owner" }, { iss: "portcullis" });
    await expectInvalid(own, portalEnv({ jwt: { secretEnv: "PORTAL_SECRET", audience: PORTAL_AUDIENCE } }));
    const signedWithOriginSecret = await memberToken(
      { org_id: org, org_role: "owner" },
      { key: new TextEncoder().encode(SIGNING_SECRET) },
    );
    await expectInvalid(signedWithOriginSecret);
  });

  it("refuses wrong issuer, audience, expiry and a missing exp", async () => {
    const { org } = await organisation();
    const claims = { org_id: org, org_role: "owner" };
    await expectInvalid(await memberToken(claims, { iss: "https://evil.test" }));
    await expectInvalid(await memberToken(claims, { aud: "someone-else" }));
    const expired = await memberToken(claims, { exp: Math.floor(Date.now() / 1000) - 120 });
    await expectProblem(await portalFetch("GET", "/session", { token: expired }), 401, "token_expired");
    const header = encodePart({ alg: "HS256", typ: "JWT" });
    const payload = encodePart({
      sub: "user_1",
      org_id: org,
      org_role: "owner",
      iss: PORTAL_ISSUER,
      aud: PORTAL_AUDIENCE,
    });
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("portal-provider-secret-0123456789abcdef"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const signature = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${header}.${payload}`)),
    );
    await expectInvalid(`${header}.${payload}.${base64url(signature)}`);
  });
});

describe("portal: alg tricks and JWKS", () => {
  it("refuses alg none and a tampered signature", async () => {
    const { org } = await organisation();
    const payload = encodePart({
      sub: "user_1",
      org_id: org,
      org_role: "owner",
      iss: PORTAL_ISSUER,
      aud: PORTAL_AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    await expectInvalid(`${encodePart({ alg: "none" })}.${payload}.`);
    await expectInvalid(`${encodePart({ alg: "none" })}.${payload}.AAAA`);
    const good = await member(org, "owner");
    const [h, , s] = good.split(".");
    await expectInvalid(`${h}.${payload}.${s}`);
  });

  it("with a JWKS, refuses HS256 signed with the public key, a wrong kid, and keys it does not hold", async () => {
    const { org } = await organisation();
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const url = `https://login.provider.test/jwks-${crypto.randomUUID()}.json`;
    const fetches: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const target = input instanceof Request ? input.url : String(input);
      fetches.push(target);
      if (target === url) return Response.json({ keys: [jwk] });
      return new Response("not found", { status: 404 });
    });
    const jwksEnv = portalEnv({ jwt: { jwksUrl: url, issuer: PORTAL_ISSUER, audience: PORTAL_AUDIENCE } });
    const now = Math.floor(Date.now() / 1000);
    const sign = (kid: string, key: CryptoKey | Uint8Array, alg = "RS256") =>
      new SignJWT({ org_id: org, org_role: "owner" })
        .setProtectedHeader({ alg, kid })
        .setSubject("user_1")
        .setIssuer(PORTAL_ISSUER)
        .setAudience(PORTAL_AUDIENCE)
        .setExpirationTime(now + 600)
        .sign(key);
    const good = await portal("GET", "/session", { token: await sign("k1", privateKey), env: jwksEnv });
    expect(good.status, good.text).toBe(200);
    const publicBytes = new TextEncoder().encode(JSON.stringify(jwk));
    await expectInvalid(await sign("k1", publicBytes, "HS256"), jwksEnv);
    const other = await generateKeyPair("RS256", { extractable: true });
    await expectInvalid(await sign("k1", other.privateKey), jwksEnv);
    await expectInvalid(await sign("unknown-kid", other.privateKey), jwksEnv);
    expect(fetches.every((target) => target === url)).toBe(true);
  });
});

describe("portal: hostile claims", () => {
  async function withClaims(claims: Json, portalSettings: Json = {}) {
    return memberToken(claims, {}).then((token) => ({ token, env: portalEnv(portalSettings) }));
  }

  it("refuses a workspace claim that is missing, not a string, or an array", async () => {
    const { org } = await organisation();
    for (const value of [undefined, 42, null, [org], { id: org }, true]) {
      const { token, env: e } = await withClaims({ org_id: value, org_role: "owner" });
      await expectInvalid(token, e);
    }
  });

  it("refuses a roles claim that is neither a string nor strings", async () => {
    const { org } = await organisation();
    for (const value of [42, [1, 2], ["owner", { x: 1 }], { owner: true }]) {
      const { token, env: e } = await withClaims({ org_id: org, org_role: value });
      await expectInvalid(token, e);
    }
  });

  it("refuses a subject that is missing or not a string", async () => {
    const { org } = await organisation();
    const noSub = await memberToken({ org_id: org, org_role: "owner" }, { sub: null });
    await expectInvalid(noSub);
    const numeric = await memberToken({ org_id: org, org_role: "owner", id: 7 }, { sub: null });
    await expectInvalid(numeric, portalEnv({ subjectClaim: "id" }));
  });

  it("reads JSON Pointers as own members only: no __proto__, constructor or inherited values", async () => {
    const { org } = await organisation();
    const pointerEnv = portalEnv({
      workspaceClaim: "/app_metadata/org_id",
      rolesClaim: "/app_metadata/role",
    });
    const good = await memberToken({ app_metadata: { org_id: org, role: "owner" } });
    expect((await portal("GET", "/session", { token: good, env: pointerEnv })).status).toBe(200);
    const escaped = portalEnv({ workspaceClaim: "/a~1b/c~0d" });
    const tilde = await memberToken({ "a/b": { "c~d": org }, org_role: "owner" });
    expect((await portal("GET", "/session", { token: tilde, env: escaped })).status).toBe(200);
    for (const pointer of ["/__proto__/org_id", "/constructor/name", "/app_metadata/toString"]) {
      const token = await memberToken({ app_metadata: { org_id: org, role: "owner" }, org_role: "owner" });
      await expectInvalid(token, portalEnv({ workspaceClaim: pointer }));
    }
    const protoToken = `${encodePart({ alg: "HS256" })}.x.y`;
    await expectInvalid(protoToken, pointerEnv);
    const arrayIndex = await memberToken({ orgs: [org], org_role: "owner" });
    await expectInvalid(arrayIndex, portalEnv({ workspaceClaim: "/orgs/0" }));
  });

  it("refuses very long claim values, and an unknown organisation is workspace_unknown", async () => {
    const { token } = await withClaims({ org_id: "o".repeat(100_000), org_role: "owner" });
    const response = await portalFetch("GET", "/session", { token });
    expect([401, 403]).toContain(response.status);
    const text = await response.text();
    expect(text).not.toContain("o".repeat(200));
    const unknown = await member(`org_nobody_${crypto.randomUUID()}`, "owner");
    await expectProblem(await portalFetch("GET", "/session", { token: unknown }), 403, "workspace_unknown");
    const longSub = await memberToken({ org_id: "x", org_role: "owner" }, { sub: "s".repeat(5_000) });
    await expectInvalid(longSub);
  });

  it("gives unknown roles nothing, and roles named like prototype members nothing", async () => {
    const { org } = await organisation();
    for (const role of ["__proto__", "constructor", "hasOwnProperty", ["toString", "valueOf"]]) {
      const session = await portal("GET", "/session", { token: await member(org, role) });
      expect(session.status, session.text).toBe(200);
      expect(session.json.permissions).toEqual([]);
    }
  });
});

describe("portal: the abuse limit", () => {
  it("counts failed tokens toward the client IP's abuse limit", async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
    let calls = 0;
    const limiter = {
      limit: async () => {
        calls += 1;
        return { success: calls <= 3 };
      },
    };
    const limited = { ...portalEnv(), ABUSE_LIMITER: limiter } as unknown as Partial<Env>;
    const bad = await memberToken({ org_id: "x", org_role: "owner" }, { iss: "https://evil.test" });
    for (let i = 0; i < 3; i += 1) {
      await expectProblem(
        await portalFetch("GET", "/session", {
          token: bad,
          env: limited,
          headers: { "CF-Connecting-IP": ip },
        }),
        401,
        "invalid_token",
      );
    }
    await expectProblem(
      await portalFetch("GET", "/session", { token: bad, env: limited, headers: { "CF-Connecting-IP": ip } }),
      429,
      "rate_limited",
    );
    const blocked = await portalFetch("GET", "/session", {
      token: bad,
      env: limited,
      headers: { "CF-Connecting-IP": ip },
    });
    await expectProblem(blocked, 429, "rate_limited");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(calls).toBe(4);
  });
});
