/**
 * Session JWTs over real HTTP, verified against a JWKS that the test origin serves: RS256,
 * ES256 and EdDSA, and a key rotation.
 */
import { describe, expect, inject, it } from "vitest";
import { type Json, portcullis } from "./fixtures";

async function sign(alg: string, claims: Json, expiresInSeconds?: number): Promise<string> {
  const response = await fetch(`${inject("originUrl")}/__sign`, {
    method: "POST",
    body: JSON.stringify({ alg, claims, expiresInSeconds }),
  });
  return ((await response.json()) as Json).token;
}

function dashboard(token: string) {
  return fetch(portcullis("/dashboard/home"), { headers: { Authorization: `Bearer ${token}` } });
}

describe("sessions with a JWKS", () => {
  it.each(["RS256", "ES256", "EdDSA"])("accepts a %s session and forwards its subject", async (alg) => {
    const response = await dashboard(
      await sign(alg, { sub: `user-${alg}`, permissions: ["dashboard:read"] }),
    );
    expect(response.status).toBe(200);
    const seen = (await response.json()) as Json;
    expect(seen.headers["x-portcullis-subject"]).toBe(`user-${alg}`);
    expect(seen.assertion).toMatchObject({ sub: `user-${alg}`, type: "session" });
  });

  it("tells an expired session from an invalid one", async () => {
    const expired = await dashboard(await sign("ES256", { sub: "u", permissions: "dashboard:read" }, -120));
    expect([expired.status, expired.headers.get("x-portcullis-code")]).toEqual([401, "token_expired"]);
    const token = await sign("ES256", { sub: "u", permissions: "dashboard:read" });
    const tampered = await dashboard(`${token.slice(0, -4)}AAAA`);
    expect([tampered.status, tampered.headers.get("x-portcullis-code")]).toEqual([401, "invalid_token"]);
  });

  it("follows a key rotation: new key ids are fetched, retired ones are refused", async () => {
    const before = await sign("RS256", { sub: "rotating", permissions: "dashboard:read" });
    expect((await dashboard(before)).status).toBe(200);
    await fetch(`${inject("originUrl")}/__rotate`, { method: "POST" });
    // The JWKS is re-fetched at most once a second for unknown key ids.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = await sign("RS256", { sub: "rotating", permissions: "dashboard:read" });
    expect((await dashboard(after)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const retired = await dashboard(before);
    expect([retired.status, retired.headers.get("x-portcullis-code")]).toEqual([401, "invalid_token"]);
  });
});
