/**
 * The proxy configurations docs/forward-auth.md documents, as the end-to-end tests run them:
 * read from the page's fenced block under a heading, with only addresses substituted, so that
 * the tests prove exactly what an operator copies.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PAGE = join(dirname(fileURLToPath(import.meta.url)), "../../../docs/forward-auth.md");

/** The first fenced block of `language` after the line `heading`. */
export function documentedBlock(heading: string, language: string): string {
  const text = readFileSync(PAGE, "utf8");
  const at = text.indexOf(`\n${heading}\n`);
  if (at === -1) throw new Error(`docs/forward-auth.md has no heading "${heading}"`);
  const fence = `\n\`\`\`${language}\n`;
  const start = text.indexOf(fence, at);
  const end = text.indexOf("\n```\n", start + fence.length);
  if (start === -1 || end === -1)
    throw new Error(`docs/forward-auth.md has no ${language} block under "${heading}"`);
  return text.slice(start + fence.length, end + 1);
}

/** `text` with each `from` replaced by its `to`; a `from` that does not occur is an error. */
export function substitute(text: string, replacements: [from: string, to: string][]): string {
  let result = text;
  for (const [from, to] of replacements) {
    if (!result.includes(from)) throw new Error(`the documented configuration no longer contains "${from}"`);
    result = result.replaceAll(from, to);
  }
  return result;
}
