/**
 * CORS for browser keys (docs/policy.md).
 */
import { describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { createKey, createWorkspace, direct, expectProblem, type Json } from "./helpers";

const SITE = "https://shop.example";
const withCors = {
  POLICY: JSON.stringify({
    ...TEST_POLICY,
    cors: {
      origins: [SITE],
      methods: ["GET", "POST"],
      headers: ["Authorization", "Content-Type"],
      maxAgeSeconds: 600,
    },
  }),
};

function preflight(origin: string, policy = withCors) {
  return direct(
    new Request("https://api.example.test/api/products", {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
      },
    }),
    policy,
  );
}

describe("CORS", () => {
  it("answers a preflight for an allowed origin itself", async () => {
    const response = await preflight(SITE);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(SITE);
    expect(response.headers.get("access-control-allow-methods")).toBe("GET,POST");
    expect(response.headers.get("access-control-allow-headers")).toBe("Authorization,Content-Type");
    expect(response.headers.get("access-control-max-age")).toBe("600");
  });

  it("gives no CORS grant to another origin", async () => {
    const response = await preflight("https://evil.example");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds the CORS headers to every response for an allowed origin, denials included", async () => {
    const denied = await direct(
      new Request("https://api.example.test/api/products", { headers: { Origin: SITE } }),
      withCors,
    );
    await expectProblem(denied, 401, "missing_credential");
    expect(denied.headers.get("access-control-allow-origin")).toBe(SITE);
    expect(denied.headers.get("access-control-expose-headers")).toContain("X-Portcullis-Code");
    const ws = await createWorkspace();
    const { key } = await createKey(ws, { type: "browser" });
    const allowed = await direct(
      new Request("https://api.example.test/api/products", {
        headers: { Origin: SITE, Authorization: `Bearer ${key}` },
      }),
      withCors,
    );
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(SITE);
    expect(allowed.headers.get("vary")).toContain("Origin");
  });

  it("without `cors`, sends preflights to the origin unauthenticated", async () => {
    const response = await preflight(SITE, { POLICY: JSON.stringify(TEST_POLICY) });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Json;
    expect(echo).toMatchObject({ method: "OPTIONS", path: "/api/products" });
    expect(echo.headers["x-portcullis-key-id"]).toBeUndefined();
  });
});
