/**
 * An invalid policy makes every request fail closed with 500 `policy_invalid` naming the field.
 */
import { describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { ADMIN, adminRequest, BASE, direct, expectProblem } from "./helpers";

const broken: [string, unknown, string][] = [
  [
    "a prefix outside [a-z0-9_]",
    { ...TEST_POLICY, keyTypes: { server: { prefix: "SK-Live" } } },
    "keyTypes.server.prefix",
  ],
  ["a route without a path", { ...TEST_POLICY, routes: [{ methods: ["GET"] }] }, "routes.0.path"],
  [
    "a quotaStatus that is neither 409 nor 429",
    { ...TEST_POLICY, plans: { pro: { quotaStatus: 418 } } },
    "plans.pro.quotaStatus",
  ],
  ["JSON that does not parse", '{"keyTypes": {', "POLICY"],
];

describe("invalid policy", () => {
  it.each(broken)(
    "with %s, every request is 500 policy_invalid naming the field",
    async (_, policy, field) => {
      const POLICY = typeof policy === "string" ? policy : JSON.stringify(policy);
      for (const request of [
        new Request(`${BASE}/_portcullis/health`),
        new Request(`${BASE}/public/anything`),
        new Request(`${BASE}/api/products`, { headers: { Authorization: "Bearer sk_test_x" } }),
        adminRequest("GET", "/workspaces"),
        new Request(`${ADMIN}/openapi.json`),
      ]) {
        const body = await expectProblem(await direct(request, { POLICY }), 500, "policy_invalid");
        expect(body.detail).toContain(field);
        expect(body.errors).toEqual([expect.objectContaining({ field })]);
      }
    },
  );

  it("recovers when the policy is valid again", async () => {
    await direct(new Request(`${BASE}/_portcullis/health`), { POLICY: "{" });
    const response = await direct(new Request(`${BASE}/_portcullis/health`), {
      POLICY: JSON.stringify(TEST_POLICY),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", version: expect.any(String) });
  });
});
