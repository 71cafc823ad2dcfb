/**
 * What verification costs in storage: a warm key one Durable Object call and no D1 read; an
 * unknown key one D1 read and no Durable Object; a malformed key nothing at all.
 */
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checksumOf } from "../../src/keys/format";
import { BASE, countingDb, countingGates, createKey, createWorkspace, direct } from "./helpers";

async function countedCall(key: string) {
  const counted = countingDb(env.DB);
  const gates = countingGates(env.KEY_GATE);
  const response = await direct(
    new Request(`${BASE}/api/products`, { headers: { Authorization: `Bearer ${key}` } }),
    {
      DB: counted.db,
      KEY_GATE: gates.namespace,
    },
  );
  return { status: response.status, d1: counted.statements.length, objects: gates.gets() };
}

describe("storage cost of verification", () => {
  it("a warm key costs one Durable Object call and no D1 read", async () => {
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    const cold = await countedCall(key);
    expect(cold).toEqual({ status: 200, d1: 1, objects: 1 });
    for (let i = 0; i < 5; i++) expect(await countedCall(key)).toEqual({ status: 200, d1: 0, objects: 1 });
  });

  it("a well-formed unknown key costs one D1 read and creates no Durable Object", async () => {
    const before = (await listDurableObjectIds(env.KEY_GATE)).length;
    for (let i = 0; i < 5; i++) {
      const body = `${"B".repeat(31)}${i}`;
      expect(await countedCall(`sk_test_${body}_${checksumOf(body)}`)).toEqual({
        status: 401,
        d1: 1,
        objects: 0,
      });
    }
    expect((await listDurableObjectIds(env.KEY_GATE)).length).toBe(before);
  });

  it("a malformed key or unknown prefix touches no storage", async () => {
    for (const key of ["sk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_00000000", "nope_123", "x"]) {
      expect(await countedCall(key)).toEqual({ status: 401, d1: 0, objects: 0 });
    }
  });
});
