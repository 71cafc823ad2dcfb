/**
 * Session JWTs (docs/policy.md#sessions) with an HS256 secret named by the policy.
 */
import { verify } from "hono/jwt";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  SESSION_AUDIENCE,
  SESSION_ISSUER,
  SESSION_SECRET,
  SIGNING_SECRET,
  TEST_POLICY,
} from "../fixtures/policy";
import { call, createKey, createWorkspace, direct, expectProblem, type Json } from "./helpers";

const secret = new TextEncoder().encode(SESSION_SECRET);

async function session(
  claims: Record<string, unknown> = {},
  options: { exp?: number; nbf?: number; key?: Uint8Array; iss?: string; aud?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ permissions: "dashboard:read reports:read", ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user_42")
    .setIssuer(options.iss ?? SESSION_ISSUER)
    .setAudience(options.aud ?? SESSION_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(options.exp ?? now + 3_600);
  if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? secret);
}

describe("sessions", () => {
  it("accepts a valid session on a jwt route and forwards the subject and its permissions", async () => {
    const response = await call("/dashboard/home", { key: await session() });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Json;
    expect(echo.headers).toMatchObject({
      "x-portcullis-subject": "user_42",
      "x-portcullis-key-type": "session",
      "x-portcullis-permissions": "dashboard:read reports:read",
    });
    expect(echo.headers["x-portcullis-key-id"]).toBeUndefined();
    expect(echo.headers.authorization).toBeUndefined();
    expect(response.headers.get("ratelimit")).toBeNull();
    const claims = await verify(echo.headers["x-portcullis-assertion"], SIGNING_SECRET, "HS256");
    expect(claims).toMatchObject({ sub: "user_42", keyId: null, type: "session", path: "/dashboard/home" });
  });

  it("reads permissions from an array claim too, and checks them (row 10)", async () => {
    expect(
      (await call("/dashboard/x", { key: await session({ permissions: ["dashboard:read"] }) })).status,
    ).toBe(200);
    await expectProblem(
      await call("/dashboard/x", { key: await session({ permissions: ["reports:read"] }) }),
      403,
      "insufficient_permissions",
    );
  });

  it("answers 401 token_expired for an expired token, allowing 30 s of clock skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await call("/dashboard/x", { key: await session({}, { exp: now - 20 }) })).status).toBe(200);
    const expired = await call("/dashboard/x", { key: await session({}, { exp: now - 60 }) });
    await expectProblem(expired, 401, "token_expired");
    expect(expired.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("answers 401 invalid_token for a bad signature, issuer, audience, nbf, algorithm or subject", async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" }))}.${btoa(JSON.stringify({ sub: "x", exp: now + 60 }))}.`;
    const noSubject = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(SESSION_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setExpirationTime(now + 60)
      .sign(secret);
    for (const token of [
      await session({}, { key: new TextEncoder().encode("another-secret-another-secret-!!") }),
      await session({}, { iss: "https://evil.example" }),
      await session({}, { aud: "someone-else" }),
      await session({}, { nbf: now + 120 }),
      unsigned.replace(/=/g, ""),
      noSubject,
    ]) {
      const response = await call("/dashboard/x", { key: token });
      const body = await expectProblem(response, 401, "invalid_token");
      expect(JSON.stringify(body)).not.toContain(token);
    }
  });

  it("refuses a JWT where only keys are accepted, and a key where only sessions are", async () => {
    await expectProblem(await call("/api/products", { key: await session() }), 401, "malformed_key");
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    await expectProblem(await call("/dashboard/x", { key }), 401, "invalid_token");
    await expectProblem(await call("/dashboard/x"), 401, "missing_credential");
  });

  it("accepts either on a route with auth [key, jwt]", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect((await call("/mixed/a", { key })).status).toBe(200);
    expect((await call("/mixed/a", { key: await session() })).status).toBe(200);
  });

  it("passes every permission check with fullAccess", async () => {
    const fullAccess = {
      POLICY: JSON.stringify({ ...TEST_POLICY, jwt: { ...TEST_POLICY.jwt, fullAccess: true } }),
    };
    const token = await session({ permissions: [] });
    const response = await direct(
      new Request("https://h.test/dashboard/x", { headers: { Authorization: `Bearer ${token}` } }),
      fullAccess,
    );
    expect(response.status).toBe(200);
  });
});
