/**
 * An origin behind a real deployment checks Portcullis' assertion with the helper origins are
 * given (src/origin/verify-assertion.ts): what the origin received verifies for the method and
 * path the origin saw, and for no other.
 */
import { describe, expect, it } from "vitest";
import { verifyAssertion } from "../../src/origin/verify-assertion";
import { E2E_SIGNING_SECRET, newKey, portcullis } from "./fixtures";

describe("the origin's assertion check", () => {
  it("accepts the assertion of the request the origin received, for that method and path only", async () => {
    const { key, id } = await newKey();
    const response = await fetch(portcullis("/api/products/a:b?page=1"), {
      method: "PATCH",
      headers: { Authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    const received = (await response.json()) as {
      method: string;
      path: string;
      headers: Record<string, string>;
    };
    const token = received.headers["x-portcullis-assertion"];

    const claims = await verifyAssertion(token, E2E_SIGNING_SECRET, received);
    expect(claims).toMatchObject({ keyId: id, sub: id, method: "PATCH", path: "/api/products/a:b" });
    await expect(
      verifyAssertion(token, E2E_SIGNING_SECRET, { ...received, method: "GET" }),
    ).rejects.toThrow();
    await expect(
      verifyAssertion(token, E2E_SIGNING_SECRET, { ...received, path: "/api/other" }),
    ).rejects.toThrow();
    await expect(verifyAssertion(token, "not-the-signing-secret", received)).rejects.toThrow();
  });
});
