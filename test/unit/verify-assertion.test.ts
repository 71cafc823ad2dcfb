/**
 * The origin-side check of `X-Portcullis-Assertion` (src/origin/verify-assertion.ts): it accepts
 * an assertion signed with the secret for this method and path, and refuses anything else.
 */
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { AssertionError, verifyAssertion } from "../../src/origin/verify-assertion";

const SECRET = "origin-signing-secret-for-tests";
const REQUEST = { method: "POST", path: "/api/products" };

/** An assertion as Portcullis signs it, with `changes` applied. */
function assertion(
  changes: { claims?: Record<string, unknown>; secret?: string; alg?: string; ageSeconds?: number } = {},
) {
  const now = Math.floor(Date.now() / 1000) - (changes.ageSeconds ?? 0);
  const claims = {
    iss: "portcullis",
    sub: "key_Pu6HmUGcov4jFe410Q7p",
    keyId: "key_Pu6HmUGcov4jFe410Q7p",
    workspaceId: "ws_LfYy2EehO3GMNdB2WCku",
    type: "server",
    permissions: ["products:read", "products:write"],
    method: "POST",
    path: "/api/products",
    iat: now,
    exp: now + 60,
    ...changes.claims,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: changes.alg ?? "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(changes.secret ?? SECRET));
}

async function refusal(token: string | null, request = REQUEST): Promise<string> {
  const error = await verifyAssertion(token, SECRET, request).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AssertionError);
  return (error as Error).message;
}

describe("verifyAssertion", () => {
  it("returns the claims of an assertion for this request", async () => {
    const claims = await verifyAssertion(await assertion(), SECRET, REQUEST);
    expect(claims).toMatchObject({
      keyId: "key_Pu6HmUGcov4jFe410Q7p",
      type: "server",
      path: "/api/products",
    });
    expect(claims.permissions).toEqual(["products:read", "products:write"]);
  });

  it("compares methods ignoring case", async () => {
    await expect(
      verifyAssertion(await assertion(), SECRET, { ...REQUEST, method: "post" }),
    ).resolves.toBeTruthy();
  });

  it("refuses an assertion for another method or path", async () => {
    expect(await refusal(await assertion(), { ...REQUEST, method: "DELETE" })).toContain("POST");
    expect(await refusal(await assertion(), { ...REQUEST, path: "/api/admin" })).toContain("/api/products");
    expect(await refusal(await assertion(), { ...REQUEST, path: "/api/products/" })).toContain(
      "/api/products",
    );
  });

  it("refuses a missing assertion, another secret, another algorithm or issuer", async () => {
    expect(await refusal(null)).toContain("no X-Portcullis-Assertion");
    await refusal(await assertion({ secret: "another-secret-of-the-same-length" }));
    await refusal(await assertion({ alg: "HS512" }));
    await refusal(await assertion({ claims: { iss: "someone-else" } }));
    await refusal(`${(await assertion()).split(".").slice(0, 2).join(".")}.`);
  });

  it("refuses an expired assertion, and one without exp", async () => {
    expect(await refusal(await assertion({ ageSeconds: 120 }))).toContain("expired");
    await refusal(await assertion({ claims: { exp: undefined } }));
  });

  it("refuses an assertion without a method, path or permission list", async () => {
    await refusal(await assertion({ claims: { path: undefined } }));
    await refusal(await assertion({ claims: { method: 7 } }));
    await refusal(await assertion({ claims: { permissions: "products:read" } }));
  });
});
