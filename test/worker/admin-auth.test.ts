import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ROOT_TOKEN } from "../fixtures/policy";
import { ADMIN, admin, adminRequest, createKey, createWorkspace, direct, expectProblem } from "./helpers";

describe("admin: authentication", () => {
  it("answers 401 missing_credential without a credential", async () => {
    const response = await exports.default.fetch(new Request(`${ADMIN}/workspaces`));
    const body = await expectProblem(response, 401, "missing_credential");
    expect(body.detail).toContain("Authorization");
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="portcullis"');
  });

  it("answers 401 invalid_key for a wrong token, malformed or not", async () => {
    for (const token of ["nope", `${ROOT_TOKEN}x`, "pc_admin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_00000000"]) {
      const response = await exports.default.fetch(adminRequest("GET", "/workspaces", undefined, token));
      await expectProblem(response, 401, "invalid_key");
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  it("answers 403 wrong_key_type for an ordinary API key", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const response = await exports.default.fetch(adminRequest("GET", "/workspaces", undefined, key));
    await expectProblem(response, 403, "wrong_key_type");
  });

  it("turns root access off when ADMIN_TOKEN is unset", async () => {
    const response = await direct(adminRequest("GET", "/workspaces"), { ADMIN_TOKEN: undefined });
    await expectProblem(response, 401, "invalid_key");
  });

  it("checks authentication before validating the body", async () => {
    const response = await exports.default.fetch(
      new Request(`${ADMIN}/workspaces`, {
        method: "POST",
        body: "{bad",
        headers: { "content-type": "application/json" },
      }),
    );
    await expectProblem(response, 401, "missing_credential");
    expect((await admin("POST", "/workspaces", "{bad")).status).toBe(400);
  });
});
