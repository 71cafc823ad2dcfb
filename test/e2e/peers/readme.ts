/**
 * The proxy configurations the README documents, as the end-to-end tests run them: read from
 * the README's fenced block under a heading, with only addresses substituted, so that the
 * tests prove exactly what an operator copies.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const README = join(dirname(fileURLToPath(import.meta.url)), "../../../README.md");

/** The first fenced block of `language` after the line `heading`. */
export function readmeBlock(heading: string, language: string): string {
  const text = readFileSync(README, "utf8");
  const at = text.indexOf(`\n${heading}\n`);
  if (at === -1) throw new Error(`README.md has no heading "${heading}"`);
  const fence = `\n\`\`\`${language}\n`;
  const start = text.indexOf(fence, at);
  const end = text.indexOf("\n```\n", start + fence.length);
  if (start === -1 || end === -1) throw new Error(`README.md has no ${language} block under "${heading}"`);
  return text.slice(start + fence.length, end + 1);
}

/** `text` with each `from` replaced by its `to`; a `from` that does not occur is an error. */
export function substitute(text: string, replacements: [from: string, to: string][]): string {
  let result = text;
  for (const [from, to] of replacements) {
    if (!result.includes(from)) throw new Error(`the README's configuration no longer contains "${from}"`);
    result = result.replaceAll(from, to);
  }
  return result;
}
