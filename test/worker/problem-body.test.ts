/**
 * Every problem body, on every surface, carries the extension member `error: {type, message}`
 * (docs/decisions.md#the-error-body), which clients built for OpenAI- and Anthropic-style APIs
 * read, beside RFC 9457's members, which stay exactly as they were.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { leakBindings, postReport } from "./github-reports";
import { ADMIN, adminRequest, BASE, direct, type Json } from "./helpers";

const leaks = leakBindings([]);

/** One refusal of each surface: the request, the bindings it needs, the code it gets. */
const surfaces: [string, () => Promise<Response>, string, number][] = [
  [
    "proxy, no key",
    () => exports.default.fetch(new Request(`${BASE}/api/products`)),
    "missing_credential",
    401,
  ],
  [
    "proxy, malformed key",
    () =>
      exports.default.fetch(
        new Request(`${BASE}/api/products`, { headers: { Authorization: "Bearer sk_test_nope" } }),
      ),
    "malformed_key",
    401,
  ],
  [
    "forward-auth, no proxy headers",
    () => exports.default.fetch(new Request(`${BASE}/_portcullis/v1/authorize?proxy=traefik`)),
    "bad_request",
    400,
  ],
  [
    "forward-auth, nginx's 403",
    () =>
      exports.default.fetch(
        new Request(`${BASE}/_portcullis/v1/authorize?proxy=nginx`, {
          headers: {
            "X-Original-Method": "GET",
            "X-Original-URI": "/a%2fb",
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": "127.0.0.1",
            "X-Real-IP": "10.9.3.3",
          },
        }),
      ),
    "bad_request",
    403,
  ],
  [
    "verify, no credential",
    () =>
      exports.default.fetch(
        new Request(`${BASE}/_portcullis/v1/verify`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        }),
      ),
    "missing_credential",
    401,
  ],
  [
    "self, no key",
    () => exports.default.fetch(new Request(`${BASE}/_portcullis/v1/self`)),
    "missing_credential",
    401,
  ],
  [
    "admin, unknown key id",
    () => exports.default.fetch(adminRequest("GET", "/keys/key_unknown")),
    "not_found",
    404,
  ],
  [
    "admin, invalid body (with errors)",
    () => exports.default.fetch(adminRequest("POST", "/workspaces", { name: 7 })),
    "bad_request",
    400,
  ],
  [
    "admin, no credential",
    () => exports.default.fetch(new Request(`${ADMIN}/keys`)),
    "missing_credential",
    401,
  ],
  ["leaks, unsigned", () => postReport("[]", {}, leaks), "invalid_signature", 401],
  [
    "unknown path under the base path",
    () => exports.default.fetch(new Request(`${BASE}/_portcullis/nothing-here`)),
    "not_found",
    404,
  ],
  [
    "invalid policy (with errors)",
    () =>
      direct(new Request(`${BASE}/_portcullis/health`), {
        POLICY: JSON.stringify({ ...TEST_POLICY, routes: [{ methods: ["GET"] }] }),
      }),
    "policy_invalid",
    500,
  ],
];

describe("problem bodies", () => {
  it.each(surfaces)("%s: carries error {type: code, message: detail}", async (_, send, code, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const body = (await response.json()) as Json;
    const members = ["type", "title", "status", "code", "detail", "requestId", "error"];
    expect(Object.keys(body).sort()).toEqual(
      (body.errors === undefined ? members : [...members, "errors"]).sort(),
    );
    expect(body).toMatchObject({ type: `urn:portcullis:problem:${code}`, status, code });
    expect(typeof body.detail).toBe("string");
    expect(body.error).toEqual({ type: code, message: body.detail });
  });
});
