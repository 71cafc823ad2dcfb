/**
 * A request decided by the isolate's lease (docs/consistency.md) touches nothing of the key's
 * object: not even its stub is made.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/policy/compiled";
import { loadPolicy } from "../../src/policy/load";
import { AbuseGuard } from "../../src/services/abuse";
import { verifyDeps } from "../../src/services/deps";
import { KnownKeys } from "../../src/services/known-keys";
import { verifyKey } from "../../src/services/verify-key";
import { TEST_POLICY } from "../fixtures/policy";
import { createKey, createWorkspace } from "./helpers";

const loaded = loadPolicy(TEST_POLICY);
if (!loaded.ok) throw new Error("the test policy is invalid");
const compiled = compilePolicy(loaded.policy);

const CHECK = {
  keyTypes: null,
  permissions: ["products:read"],
  anyPermissions: [],
  ip: "203.0.113.8",
  workspaceId: null,
  cost: 1,
  consume: true,
};

describe("a leased request", () => {
  it("is decided without asking the gate directory for the key's object", async () => {
    const { key } = await createKey(await createWorkspace());
    const memory = { known: new KnownKeys(), abuse: new AbuseGuard() };
    const stubs: string[] = [];
    const ctx = createExecutionContext();
    const deps = verifyDeps(env, ctx, memory);
    const directory = deps.gates;
    const counted = {
      ...deps,
      gates: {
        forKey: (id: string) => {
          stubs.push(id);
          return directory.forKey(id);
        },
      },
    };
    const verify = async () => (await verifyKey(counted, compiled, key, CHECK)).code;
    // The first request asks for no lease; the second asks for one and gets it.
    expect(await verify()).toBe("valid");
    expect(await verify()).toBe("valid");
    expect(stubs).toHaveLength(2);
    // From then on the lease decides.
    for (let i = 0; i < 5; i++) expect(await verify()).toBe("valid");
    expect(stubs).toHaveLength(2);
    // The lease's report at its end runs in the background.
    await waitOnExecutionContext(ctx);
  }, 20_000);
});
