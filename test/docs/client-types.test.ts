/**
 * src/client/schema.d.ts, the types of `portcullis/client`: generated from docs/openapi.json,
 * so current with it (`npm run client:types` regenerates it).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLIENT_TYPES_PATH, clientTypes } from "../../scripts/client-types/generate.ts";

describe("src/client/schema.d.ts", () => {
  it("is current: regenerating it changes nothing (run `npm run client:types` if this fails)", async () => {
    expect(await clientTypes()).toBe(readFileSync(CLIENT_TYPES_PATH, "utf8"));
  });

  it("types the problem's `code` as the document's error codes", () => {
    expect(readFileSync(CLIENT_TYPES_PATH, "utf8")).toContain('code: components["schemas"]["ErrorCode"];');
  });
});
