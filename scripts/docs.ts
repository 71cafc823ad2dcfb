/**
 * `npm run docs`: regenerates what docs/ derives from the code, so that the reference cannot
 * drift from it (test/docs/docs.test.ts fails when a generated part is stale):
 *
 *   docs/policy.schema.json   the JSON Schema of the policy, from the zod schema (laid out by Biome)
 *   docs/policy.md            its field tables, between `generated` markers
 *   docs/decisions.md         the table of every error code, between `generated` markers
 *
 * Everything outside the markers is written by hand.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PolicySchema } from "../src/policy/schema.ts";
import { REFUSALS as PROBLEMS } from "../src/refusals.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The subset of JSON Schema that z.toJSONSchema writes for the policy. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  format?: string;
}

/** Integers zod bounds by `Number.MAX_SAFE_INTEGER`: a bound nobody needs to read. */
const NO_BOUND = Number.MAX_SAFE_INTEGER;

export function policyJsonSchema(): JsonSchema {
  return z.toJSONSchema(PolicySchema, { io: "input" }) as JsonSchema;
}

/** A value as it is written in a JSON policy. */
const json = (value: unknown) => `\`${JSON.stringify(value)}\``;

function bounds(schema: JsonSchema): string {
  const parts: string[] = [];
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined && schema.maximum < NO_BOUND) parts.push(`≤ ${schema.maximum}`);
  return parts.length > 0 ? ` ${parts.join(", ")}` : "";
}

function isRecord(schema: JsonSchema): schema is JsonSchema & { additionalProperties: JsonSchema } {
  return typeof schema.additionalProperties === "object";
}

/** A short type: `string`, `integer ≥ 0`, `"deny" | "public"`, `string[]`, `{name: key type}`. */
function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeOf))].join(" | ");
  if (schema.type === "array" && schema.items) {
    const item = typeOf(schema.items);
    return item.includes("|") ? `(${item})[]` : `${item}[]`;
  }
  if (schema.type === "object" && isRecord(schema)) return "{ name: object }";
  if (schema.type === "string" && schema.format === "uri") return "URL";
  if (schema.type === "integer" || schema.type === "number") return `${schema.type}${bounds(schema)}`;
  return schema.type ?? "any";
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function describe(schema: JsonSchema): string {
  const examples = schema.examples?.length ? ` Examples: ${schema.examples.map(json).join(", ")}.` : "";
  return `${schema.description ?? ""}${examples}`.trim();
}

/** The object a field holds, if it has fields of its own: itself, a record's values, or array items. */
function nested(name: string, schema: JsonSchema): { name: string; schema: JsonSchema } | null {
  if (schema.properties) return { name, schema };
  if (isRecord(schema) && schema.additionalProperties.properties)
    return { name: `${name}.<name>`, schema: schema.additionalProperties };
  if (schema.items?.properties) return { name: `${name}[]`, schema: schema.items };
  return null;
}

/**
 * One table per object of the policy, the top level first, then each nested object in order;
 * `intro` is the description of the field that holds the object.
 */
function sections(name: string, schema: JsonSchema, intro: string, out: string[]): void {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([field, property]) => {
    const fallback = required.has(field) ? "required" : "absent";
    const value = property.default === undefined ? fallback : json(property.default);
    return `| \`${field}\` | \`${cell(typeOf(property))}\` | ${cell(value)} | ${cell(describe(property))} |`;
  });
  out.push(`### \`${name}\``, "");
  if (intro) out.push(intro, "");
  out.push("| field | type | default | meaning |", "| --- | --- | --- | --- |", ...rows, "");
  for (const [field, property] of Object.entries(schema.properties ?? {})) {
    const inner = nested(name === TOP ? field : `${name}.${field}`, property);
    if (inner) sections(inner.name, inner.schema, describe(property), out);
  }
}

/** Name of the top-level section. */
const TOP = "policy";

export function renderPolicyFields(): string {
  const out: string[] = [];
  sections(TOP, policyJsonSchema(), "", out);
  return out.join("\n").trimEnd();
}

export function renderErrorCodes(): string {
  const rows = Object.entries(PROBLEMS).map(
    ([name, [status, title, meaning]]) => `| \`${name}\` | ${status} | ${cell(title)} | ${cell(meaning)} |`,
  );
  return ["| code | status | title | meaning |", "| --- | ---: | --- | --- |", ...rows].join("\n");
}

/** Generated blocks of each Markdown file, by marker name. */
const BLOCKS: Record<string, Record<string, () => string>> = {
  "docs/policy.md": { fields: renderPolicyFields },
  "docs/decisions.md": { codes: renderErrorCodes },
};

/** Replaces the text between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->`. */
export function fillBlocks(file: string, text: string): string {
  let result = text;
  for (const [name, render] of Object.entries(BLOCKS[file] ?? {})) {
    const start = `<!-- generated: ${name} (npm run docs) -->`;
    const end = `<!-- end generated: ${name} -->`;
    const from = result.indexOf(start);
    const to = result.indexOf(end);
    if (from === -1 || to < from) throw new Error(`${file} lacks the markers of the block "${name}"`);
    result = `${result.slice(0, from + start.length)}\n${render()}\n${result.slice(to)}`;
  }
  return result;
}

/** Every generated file, path -> content as it should be now. */
export function generatedDocs(
  read: (path: string) => string = (path) => readFileSync(join(ROOT, path), "utf8"),
) {
  const files: Record<string, string> = {
    "docs/policy.schema.json": `${JSON.stringify(policyJsonSchema(), null, 2)}\n`,
  };
  for (const file of Object.keys(BLOCKS)) files[file] = fillBlocks(file, read(file));
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [path, content] of Object.entries(generatedDocs())) {
    writeFileSync(join(ROOT, path), content);
    console.log(`wrote ${path}`);
  }
  // The project's formatter has the last word on JSON layout; the docs test compares values.
  const format = spawnSync("biome", ["format", "--write", "docs/policy.schema.json"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  process.exit(format.status ?? 1);
}
