/**
 * A request decided by the isolate's lease (docs/consistency.md) touches nothing of the key's
 * object: not even its stub is made.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyDeps } from "../../src/services/deps";
import { verifyKey } from "../../src/services/verify-key";
import { createKey, createWorkspace } from "./helpers";
import { compiled, newIsolate, productsCheck } from "./verify-fixture";

const CHECK = productsCheck("203.0.113.8");

describe("a leased request", () => {
  it("is decided without asking the gate directory for the key's object", async () => {
    const { key } = await createKey(await createWorkspace());
    const memory = newIsolate();
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
