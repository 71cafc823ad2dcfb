/**
 * The `X-Portcullis-Assertion` JWT that Portcullis signs (src/edge/identity.ts): byte for byte the
 * token a general-purpose HS256 signer (hono/jwt) writes for the same claims, and accepted by
 * `jose`, for ASCII and non-ASCII claims alike.
 */
import { sign } from "hono/jwt";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Access } from "../../src/edge/access";
import { identityFor } from "../../src/edge/identity";

const SECRET = "origin-signing-secret-for-tests";
const NOW = 1_800_000_123_456;
const JTI = "0b6f1c9e-8d44-4a4e-9b1f-3f0c2f7d9a10";

function session(subject: string, permissions: string[], path: string): Access {
  return { kind: "session", subject, permissions, method: "POST", path } as unknown as Access;
}

async function assertionOf(access: Access): Promise<string> {
  vi.spyOn(Date, "now").mockReturnValue(NOW);
  vi.spyOn(crypto, "randomUUID").mockReturnValue(JTI);
  const token = (await identityFor(access, "api.example.com", SECRET))["X-Portcullis-Assertion"];
  expect(token).toBeDefined();
  return token as string;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the assertion JWT", () => {
  for (const [name, subject, permissions] of [
    ["ASCII claims", "user_42", ["products:read", "products:write"]],
    ["non-ASCII claims", "ünïcødé ✓ 𝒳 ?>?>~~", ["présentations:lire", "\u{1F511}:*"]],
    ["no permissions", "s", []],
  ] as const) {
    it(`is the token hono/jwt signs for the same claims, and jose verifies it (${name})`, async () => {
      const access = session(subject, [...permissions], "/api/products/ß");
      const token = await assertionOf(access);
      const iat = Math.floor(NOW / 1000);
      const reference = await sign(
        {
          iss: "portcullis",
          sub: subject,
          keyId: null,
          workspaceId: null,
          type: "session",
          permissions: [...permissions],
          method: "POST",
          path: "/api/products/ß",
          host: "api.example.com",
          jti: JTI,
          iat,
          exp: iat + 60,
        },
        SECRET,
        "HS256",
      );
      expect(token).toBe(reference);
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
      expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
      const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), {
        algorithms: ["HS256"],
        currentDate: new Date(NOW),
      });
      expect(payload).toMatchObject({
        sub: subject,
        permissions: [...permissions],
        jti: JTI,
        iat,
        exp: iat + 60,
      });
    });
  }

  it("does not verify with another secret", async () => {
    const token = await assertionOf(session("user_42", ["a"], "/a"));
    await expect(
      jwtVerify(token, new TextEncoder().encode(`${SECRET}x`), {
        algorithms: ["HS256"],
        currentDate: new Date(NOW),
      }),
    ).rejects.toThrow();
  });
});
