/**
 * docs/events.md describes every event type the code raises, each in the table of types, and
 * none as reserved for later.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/keys/events.ts";

const page = readFileSync(
  join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "docs/events.md"),
  "utf8",
);
/** The first cell of each row of the table of types. */
const described = [...page.matchAll(/^\| `([a-z]+\.[a-z]+)` \|/gm)].map((match) => match[1]);

describe("docs/events.md", () => {
  it("has a row of the table of types for each event type, and none for another", () => {
    expect([...described].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it("calls no event type reserved", () => {
    expect(page.split("\n").filter((line) => /reserved/i.test(line))).toEqual([]);
  });
});
