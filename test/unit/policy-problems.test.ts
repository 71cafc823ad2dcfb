/**
 * A policy with several mistakes is reported whole: every problem with its field path, from
 * `policyProblems` and in the `errors` of the Worker's 500 `policy_invalid`, whose `detail`
 * names the first. A misspelt field is named by its own path.
 */
import { describe, expect, it } from "vitest";
import { policyProblems } from "../../src/policy/load";
import { TEST_POLICY } from "../fixtures/policy";
import { BASE, direct, expectProblem } from "../worker/helpers";

const TWO_TYPOS_AND_A_BAD_PREFIX = {
  ...TEST_POLICY,
  orign: "echo",
  keyTypes: { ...TEST_POLICY.keyTypes, server: { prefix: "SK_test" } },
  routes: [{ path: "/api/*", methds: ["GET"] }],
};

const EXPECTED = [
  { field: "keyTypes.server.prefix", message: expect.any(String) },
  { field: "routes.0.methds", message: "unknown field" },
  { field: "orign", message: "unknown field" },
];

describe("policy problems", () => {
  it("lists every problem, each named by its field path", () => {
    expect(policyProblems(TWO_TYPOS_AND_A_BAD_PREFIX)).toEqual(EXPECTED);
    expect(policyProblems(TEST_POLICY)).toEqual([]);
  });

  it("names what a union expects instead of only 'Invalid input'", () => {
    const [problem] = policyProblems({ ...TEST_POLICY, plans: { pro: { quotaStatus: 418 } } });
    expect(problem).toEqual({ field: "plans.pro.quotaStatus", message: expect.stringContaining("409") });
    expect(problem?.message).toContain("429");
  });

  it("are all in the errors of the Worker's policy_invalid", async () => {
    const response = await direct(new Request(`${BASE}/_portcullis/health`), {
      POLICY: JSON.stringify(TWO_TYPOS_AND_A_BAD_PREFIX),
    });
    const body = await expectProblem(response, 500, "policy_invalid");
    expect(body.errors).toEqual(EXPECTED);
    expect(body.detail).toContain("keyTypes.server.prefix");
  });
});
