/**
 * Which changes only restrict a key: the consistency rule puts those in force in the key's
 * object before D1, and everything else in D1 first. When in doubt a change is a widening.
 */
import { describe, expect, it } from "vitest";
import { onlyRestricts } from "../../src/keys/change";
import { type KeyRecord, lifecycleCode } from "../../src/keys/record";

const BASE: KeyRecord = {
  id: "key_1",
  workspaceId: "ws_1",
  type: "server",
  name: null,
  start: "sk_test_abcd",
  ownerId: null,
  permissions: ["a:read", "a:write"],
  roles: ["r1", "r2"],
  meta: {},
  plan: null,
  limits: { minute: 10 },
  credits: null,
  ipAllowlist: ["10.0.0.0/8", "192.168.0.0/16"],
  enabled: true,
  expiresAt: 2_000,
  revokedAt: null,
  createdAt: 0,
  updatedAt: 0,
  lastUsedAt: null,
  rotatedFrom: null,
  createdBy: null,
};

const restricts = (change: Partial<KeyRecord>) => onlyRestricts(BASE, { ...BASE, ...change });

describe("onlyRestricts", () => {
  it("no change, or a change of nothing that matters, is not a restriction", () => {
    expect(restricts({})).toBe(false);
    expect(restricts({ permissions: ["a:write", "a:read"] })).toBe(false);
    expect(restricts({ name: "renamed" })).toBe(false);
  });

  it("revoke, disable, an earlier expiry, fewer permissions, roles or addresses, lower limits restrict", () => {
    expect(restricts({ revokedAt: 5 })).toBe(true);
    expect(restricts({ enabled: false })).toBe(true);
    expect(restricts({ expiresAt: 1_999 })).toBe(true);
    expect(restricts({ permissions: ["a:read"] })).toBe(true);
    expect(restricts({ roles: ["r1"] })).toBe(true);
    expect(restricts({ ipAllowlist: ["10.0.0.0/8"] })).toBe(true);
    expect(restricts({ limits: { minute: 9 } })).toBe(true);
    expect(onlyRestricts({ ...BASE, ipAllowlist: [] }, { ...BASE, ipAllowlist: ["10.0.0.0/8"] })).toBe(true);
    expect(onlyRestricts({ ...BASE, expiresAt: null }, { ...BASE, expiresAt: 5 })).toBe(true);
  });

  it("anything that widens, or mixes, is not a restriction", () => {
    expect(onlyRestricts({ ...BASE, revokedAt: 5 }, BASE)).toBe(false);
    expect(onlyRestricts({ ...BASE, enabled: false }, BASE)).toBe(false);
    expect(restricts({ expiresAt: 2_000_000 })).toBe(false);
    expect(restricts({ expiresAt: null })).toBe(false);
    expect(restricts({ permissions: ["a:read", "b:read"] })).toBe(false);
    expect(restricts({ roles: ["r1", "r3"] })).toBe(false);
    expect(restricts({ ipAllowlist: [] })).toBe(false);
    expect(restricts({ ipAllowlist: ["10.0.0.0/8", "172.16.0.0/12"] })).toBe(false);
    expect(restricts({ limits: { minute: 11 } })).toBe(false);
    expect(restricts({ limits: { minute: 10 } })).toBe(false);
    expect(restricts({ limits: {} })).toBe(false);
    expect(onlyRestricts({ ...BASE, limits: {} }, { ...BASE, limits: { minute: 5 } })).toBe(false);
    expect(restricts({ plan: "pro" })).toBe(false);
    expect(restricts({ enabled: false, permissions: ["a:read", "b:read"] })).toBe(false);
  });
});

describe("lifecycleCode", () => {
  it("a key expires at its expiresAt exactly", () => {
    expect(lifecycleCode(BASE, 1_999)).toBeNull();
    expect(lifecycleCode(BASE, 2_000)).toBe("key_expired");
    expect(lifecycleCode({ ...BASE, enabled: false, expiresAt: 0 }, 5)).toBe("key_disabled");
    expect(lifecycleCode({ ...BASE, revokedAt: 1, enabled: false }, 5)).toBe("key_revoked");
  });
});
