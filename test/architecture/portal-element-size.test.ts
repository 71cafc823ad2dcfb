/**
 * The portal element stays small (docs/portal.md, "Embed it"): the modules `element.js` loads
 * before it draws, gzipped, under 40 KiB. The chart (plot.js and uPlot) loads only when a chart
 * is drawn, and is not counted.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

/** Where each module the page may load is read from: the portal's own, or the console's shared ones. */
const SOURCES: Record<string, string> = { "dom.js": "console/dom.js", "plot.js": "console/plot.js" };
const LAZY = new Set(["plot.js", "uplot.esm.js", "uplot.min.css"]);

/** `element.js` and every module it imports statically, transitively. */
function elementModules(): string[] {
  const seen = new Set<string>();
  const pending = ["element.js"];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name) || LAZY.has(name)) continue;
    seen.add(name);
    const text = readFileSync(SOURCES[name] ?? join("portal", name), "utf8");
    for (const match of text.matchAll(/^import [^"]*"\.\/([^"]+)";$/gm)) pending.push(match[1] as string);
  }
  return [...seen].sort();
}

describe("the portal element's size", () => {
  it("is under 40 KiB gzipped without the chart", () => {
    const modules = elementModules();
    expect(modules).toEqual(["client.js", "dom.js", "element.js", "strings.js", "styles.js", "usage.js"]);
    const gzipped = modules.reduce(
      (sum, name) => sum + gzipSync(readFileSync(SOURCES[name] ?? join("portal", name))).length,
      0,
    );
    expect(gzipped).toBeLessThan(40 * 1024);
  });
});
