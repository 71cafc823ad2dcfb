import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../src/policy/load";
import { TEST_POLICY } from "../fixtures/policy";

describe("policy", () => {
  it("fills the defaults of docs/policy.md", () => {
    const loaded = loadPolicy({ keyTypes: { server: { prefix: "sk" } }, routes: [{ path: "/*" }] });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.policy).toMatchObject({
      basePath: "/_portcullis",
      requireHttps: true,
      credentials: ["bearer", "x-api-key"],
      hideCredentials: true,
      allowEncodedSlashes: false,
      unmatched: "deny",
      limiterFailure: "closed",
      keyTypes: { server: { prefix: "sk", checksum: true } },
      routes: [{ path: "/*", public: false, auth: ["key"], cost: 1, permissions: [], anyPermissions: [] }],
    });
    expect(loaded.policy.origin).toBeUndefined();
  });

  it("accepts a JSON string as well as an object", () => {
    expect(loadPolicy(JSON.stringify(TEST_POLICY)).ok).toBe(true);
    expect(loadPolicy(TEST_POLICY).ok).toBe(true);
  });

  it.each([
    ["a reserved prefix", { keyTypes: { a: { prefix: "pc_admin" } }, routes: [] }, "keyTypes.a.prefix"],
    [
      "a duplicate prefix",
      { keyTypes: { a: { prefix: "sk" }, b: { prefix: "sk" } }, routes: [] },
      "keyTypes.b.prefix",
    ],
    [
      "an unknown route key type",
      { keyTypes: {}, routes: [{ path: "/x", keyTypes: ["nope"] }] },
      "routes.0.keyTypes",
    ],
    ["a misspelt field", { keyTypes: {}, routes: [], orign: "echo" }, "orign"],
    ["a bad origin", { keyTypes: {}, routes: [], origin: "ftp://x" }, "origin"],
    ["a `*` in the middle of a path", { keyTypes: {}, routes: [{ path: "/a/*/b" }] }, "routes.0.path"],
    [
      "a bad permission",
      { keyTypes: {}, routes: [{ path: "/a", permissions: ["a b"] }] },
      "routes.0.permissions.0",
    ],
    [
      "a role name with a space",
      { keyTypes: {}, routes: [], roles: { "a b": { permissions: [] } } },
      "roles.a b",
    ],
    [
      "a role name of dots only",
      { keyTypes: {}, routes: [], roles: { "..": { permissions: [] } } },
      "roles...",
    ],
    [
      "a role without permissions",
      { keyTypes: {}, routes: [], roles: { viewer: {} } },
      "roles.viewer.permissions",
    ],
    [
      "a role's bad permission",
      { keyTypes: {}, routes: [], roles: { viewer: { permissions: ["a b"] } } },
      "roles.viewer.permissions.0",
    ],
    [
      "a misspelt role field",
      { keyTypes: {}, routes: [], roles: { viewer: { permissions: [], perms: [] } } },
      "roles.viewer.perms",
    ],
  ])("names the field of %s", (_, policy, field) => {
    const loaded = loadPolicy(policy);
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.field).toBe(field);
  });

  it("reports a missing or unparsable POLICY", () => {
    expect(loadPolicy(undefined)).toMatchObject({ ok: false, field: "POLICY" });
    expect(loadPolicy("{not json")).toMatchObject({ ok: false, field: "POLICY" });
  });
});

describe("revision 3 fields", () => {
  it("accepts and validates leases, logging, webhooks, leaks and creditsLowThreshold", () => {
    const base = { keyTypes: {}, routes: [] };
    const full = {
      ...base,
      leases: { ms: 500 },
      logging: { allowedSampleRate: 0.1 },
      webhooks: [{ url: "http://127.0.0.1:9000/hook", secretEnv: "HOOK_SECRET", events: ["key.revoked"] }],
      leaks: { action: "disable", githubKeysEnv: "GITHUB_KEYS" },
      creditsLowThreshold: 10,
    };
    expect(loadPolicy(JSON.stringify(full)).ok).toBe(true);
    for (const bad of [
      { leases: { ms: 20_000 } },
      { logging: { allowedSampleRate: 2 } },
      { webhooks: [{ url: "ftp://x", secretEnv: "S" }] },
      { leaks: { action: "explode" } },
      { creditsLowThreshold: -1 },
    ]) {
      expect(loadPolicy(JSON.stringify({ ...base, ...bad })).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});
