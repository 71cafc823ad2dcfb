/**
 * The meet of two permission sets (docs/consistency.md#owners): what an ownerScoped key keeps of its own
 * permissions under its owner's roles.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { holds, meet } from "../../src/keys/permissions";

/** Permission strings over a small alphabet, so that prefixes, `:` and `*` meet often. */
const permission = fc.oneof(
  fc.constantFrom("*", "tx:*", "tx:read", "tx:write", "tx:read:own", "tx:read:*", "txx:read", "tx", "*:*"),
  fc.stringMatching(/^[a-c]{1,2}(:[a-c*]{1,2}){0,2}$/),
);
const permissions = fc.array(permission, { maxLength: 6 });

describe("permission meet (⊓)", () => {
  it("keeps what both sides grant, with wildcards on either side", () => {
    expect(meet(["*"], ["tx:read"])).toEqual(["tx:read"]);
    expect(meet(["tx:read"], ["*"])).toEqual(["tx:read"]);
    expect(meet(["tx:*"], ["tx:read"])).toEqual(["tx:read"]);
    expect(meet(["tx:*"], ["tx:*"])).toEqual(["tx:*"]);
    expect(meet(["*"], ["*"])).toEqual(["*"]);
    expect(meet(["tx:read", "tx:write"], ["tx:read"])).toEqual(["tx:read"]);
    expect(meet(["tx:*"], ["other:read"])).toEqual([]);
    expect(meet(["tx:read"], [])).toEqual([]);
    expect(meet([], ["*"])).toEqual([]);
  });

  it("grants a permission iff both sides grant it", () => {
    fc.assert(
      fc.property(permissions, permissions, permission, (a, b, p) => {
        expect(holds(meet(a, b), p)).toBe(holds(a, p) && holds(b, p));
      }),
      { numRuns: 2000 },
    );
  });

  it("is commutative in what it grants, and never grants beyond either side", () => {
    fc.assert(
      fc.property(permissions, permissions, permission, (a, b, p) => {
        expect(holds(meet(a, b), p)).toBe(holds(meet(b, a), p));
        for (const kept of meet(a, b)) expect(holds(a, kept) && holds(b, kept)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
