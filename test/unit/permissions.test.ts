import { describe, expect, it } from "vitest";
import { beyondCeiling, capPermissions, covers, holds, satisfies } from "../../src/keys/permissions";

describe("permissions", () => {
  it("covers by exact match, `*` and `resource:*`", () => {
    expect(covers("fraud:report", "fraud:report")).toBe(true);
    expect(covers("*", "anything:at-all")).toBe(true);
    expect(covers("*", "assess")).toBe(true);
    expect(covers("transactions:*", "transactions:read")).toBe(true);
    expect(covers("transactions:*", "transactionsx:read")).toBe(false);
    expect(covers("transactions:*", "transactions")).toBe(false);
    expect(covers("transactions:read", "transactions:write")).toBe(false);
    expect(covers("assess", "assess:run")).toBe(false);
  });

  it("requires all of `permissions` and one of `anyPermissions`", () => {
    const held = ["a:read", "b:*"];
    expect(satisfies(held, { permissions: ["a:read", "b:write"], anyPermissions: [] })).toBe(true);
    expect(satisfies(held, { permissions: ["a:read", "c:read"], anyPermissions: [] })).toBe(false);
    expect(satisfies(held, { permissions: [], anyPermissions: ["c:read", "b:x"] })).toBe(true);
    expect(satisfies(held, { permissions: [], anyPermissions: ["c:read", "d:x"] })).toBe(false);
    expect(satisfies([], { permissions: [], anyPermissions: [] })).toBe(true);
  });

  it("caps held permissions by a ceiling so that both must grant", () => {
    expect(capPermissions(["*"], ["assess", "fraud:report"])).toEqual(["assess", "fraud:report"]);
    expect(capPermissions(["tx:*"], ["tx:read"])).toEqual(["tx:read"]);
    expect(capPermissions(["tx:read", "other"], ["tx:*"])).toEqual(["tx:read"]);
    expect(capPermissions(["a", "b"], undefined)).toEqual(["a", "b"]);
    const capped = capPermissions(["tx:*", "assess"], ["tx:read", "*"]);
    for (const wanted of ["tx:read", "tx:write", "assess"]) {
      expect(holds(capped, wanted)).toBe(
        holds(["tx:*", "assess"], wanted) && holds(["tx:read", "*"], wanted),
      );
    }
  });

  it("lists what a ceiling does not grant", () => {
    expect(beyondCeiling(["products:read", "products:write"], ["products:read"])).toEqual(["products:write"]);
    expect(beyondCeiling(["*"], ["products:*"])).toEqual(["*"]);
    expect(beyondCeiling(["anything"], undefined)).toEqual([]);
  });
});
