/**
 * docs/events.md describes every event type the code raises, each in the table of types, and
 * none as reserved for later. The client exports the same list, and no other consumer (the CLI,
 * the console) writes one of its own: the CLI takes the client's, the console `GET /policy`'s.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES as CLIENT_EVENT_TYPES } from "../../src/client/index.ts";
import { EVENT_TYPES } from "../../src/keys/events.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const page = readFileSync(join(ROOT, "docs/events.md"), "utf8");

/** The files of a folder of the clone, recursively, relative to the clone. */
function filesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(ROOT.length + 1));
}
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

describe("the event types' consumers", () => {
  it("the client exports every event type, and none other", () => {
    expect([...CLIENT_EVENT_TYPES].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it("the CLI and the console name no event type of their own: they read the list", () => {
    const named = [...filesUnder("src/cli"), ...filesUnder("console")]
      .filter((file) => /\.(ts|js)$/.test(file))
      .flatMap((file) => {
        const text = readFileSync(join(ROOT, file), "utf8");
        // As a string literal: a comment may name one in backquotes.
        const quoted = (type: string) => ['"', "'"].some((quote) => text.includes(`${quote}${type}${quote}`));
        return EVENT_TYPES.filter(quoted).map((type) => `${file}: ${type}`);
      });
    expect(named).toEqual([]);
  });
});
