/**
 * `npm run setup:cloudflare [-- --config PATH]`: prepares a Cloudflare account for
 * `npm run deploy` (docs/deploy.md). It creates the D1 database named in the `[[d1_databases]]`
 * block of binding DB, or reuses the account's database of that name, writes its id into that
 * block's `database_id` line (the only line it changes), and creates the queues of
 * `[[queues.producers]]` and `[[queues.consumers]]` (the events queue and its dead-letter queue).
 * Running it again changes nothing. It prints what it did, never a credential: wrangler's own
 * output is shown only when a command fails.
 *
 * PORTCULLIS_WRANGLER names the wrangler command to run (default: `wrangler` of this project).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { stripVTControlCharacters } from "node:util";

/** The `database_id` wrangler.toml ships with: no database. */
export const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const ID_LINE = /^(\s*database_id\s*=\s*")([^"]*)"/;

/**
 * The database id in the output of `wrangler d1 create`, which ends with a snippet to paste: TOML
 * (`database_id = "…"`) for a wrangler.toml, JSON (`"database_id": "…"`) otherwise. Null if
 * there is none (an error), or only the placeholder.
 */
export function parseDatabaseId(output) {
  const match = new RegExp(`"?database_id"?\\s*[=:]\\s*"(${UUID})"`).exec(stripVTControlCharacters(output));
  const id = match?.[1]?.toLowerCase();
  return id && id !== PLACEHOLDER_ID ? id : null;
}

/** Whether a failed create says the resource is there already (queues: code 11009). */
export function isAlreadyExists(output) {
  return /already (exists|taken)|\[code: 11009\]/i.test(stripVTControlCharacters(output));
}

/** The string value of `key = "…"` on one line, if that is what the line holds. */
function value(line, key) {
  return new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`).exec(line)?.[1];
}

/** Each `[[header]]` block of a TOML file: its header and its lines up to the next table. */
function blocks(lines) {
  const found = [];
  let current;
  lines.forEach((line, index) => {
    const header = /^\s*\[\[?\s*([^\]\s]+)\s*\]\]?/.exec(line)?.[1];
    if (header === undefined) {
      current?.lines.push(index);
      return;
    }
    current = { header, lines: [] };
    found.push(current);
  });
  return found;
}

/**
 * The `[[d1_databases]]` block of `binding`: its database_name, its database_id and the index
 * of the database_id line (undefined if it has none). Throws if there is no such block.
 */
export function databaseBlock(toml, binding = "DB") {
  const lines = toml.split("\n");
  const block = blocks(lines).find(
    ({ header, lines: indexes }) =>
      header === "d1_databases" && indexes.some((i) => value(lines[i], "binding") === binding),
  );
  if (block === undefined) throw new Error(`no [[d1_databases]] block with binding = "${binding}"`);
  const idLine = block.lines.find((i) => ID_LINE.test(lines[i]));
  return {
    name: block.lines.map((i) => value(lines[i], "database_name")).find((name) => name !== undefined),
    id: idLine === undefined ? undefined : value(lines[idLine], "database_id"),
    idLine,
  };
}

/** `toml` with `id` as the database_id of the database bound as `binding`; nothing else changes. */
export function withDatabaseId(toml, id, binding = "DB") {
  const { idLine } = databaseBlock(toml, binding);
  if (idLine === undefined)
    throw new Error(`the [[d1_databases]] block of ${binding} has no database_id line`);
  const lines = toml.split("\n");
  lines[idLine] = lines[idLine].replace(ID_LINE, `$1${id}"`);
  return lines.join("\n");
}

/** The queues the Worker produces to and consumes from, dead-letter queues included, in order. */
export function queueNames(toml) {
  const lines = toml.split("\n");
  const names = blocks(lines)
    .filter(({ header }) => header === "queues.producers" || header === "queues.consumers")
    .flatMap(({ lines: indexes }) =>
      indexes.flatMap((i) => [value(lines[i], "queue"), value(lines[i], "dead_letter_queue")]),
    )
    .filter((name) => name !== undefined);
  return [...new Set(names)];
}

/** The value of `--config PATH`, `--config=PATH` or `-c PATH` in `args`. */
export function configOption(args) {
  for (const [i, arg] of args.entries()) {
    if (arg === "--config" || arg === "-c") return args[i + 1];
    if (arg.startsWith("--config=")) return arg.slice("--config=".length);
  }
  return undefined;
}

function main() {
  const config = configOption(process.argv.slice(2)) ?? "wrangler.toml";
  const command = process.env.PORTCULLIS_WRANGLER ?? "wrangler";
  const wrangler = (args) => {
    const result = spawnSync(command, [...args, "--config", config], {
      encoding: "utf8",
      shell: process.platform === "win32",
    });
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? result.error.message : ""}`;
    return { ok: result.status === 0, stdout: result.stdout ?? "", output };
  };
  const fail = (message, output = "") => {
    if (output.trim()) console.error(output.trim());
    console.error(`setup:cloudflare: ${message}`);
    process.exit(1);
  };

  const toml = readFileSync(config, "utf8");
  let name;
  try {
    ({ name } = databaseBlock(toml));
    withDatabaseId(toml, PLACEHOLDER_ID);
  } catch (error) {
    fail(`${config}: ${error.message}`);
  }
  if (!name) fail(`${config}: the [[d1_databases]] block of DB has no database_name`);

  const list = wrangler(["d1", "list", "--json"]);
  if (!list.ok)
    fail("wrangler could not list your D1 databases (not logged in? `npx wrangler login`)", list.output);
  let databases;
  try {
    databases = JSON.parse(list.stdout.slice(list.stdout.indexOf("[")));
  } catch {
    fail("could not read the output of `wrangler d1 list --json`", list.output);
  }
  let id = databases.find((database) => database.name === name)?.uuid;
  if (id) {
    console.log(`D1 database ${name} exists (${id})`);
  } else {
    const created = wrangler(["d1", "create", name]);
    if (!created.ok) fail(`wrangler could not create the D1 database ${name}`, created.output);
    id = parseDatabaseId(created.output);
    if (!id) fail(`no database id in the output of \`wrangler d1 create ${name}\``, created.output);
    console.log(`created D1 database ${name} (${id})`);
  }

  const updated = withDatabaseId(toml, id);
  if (updated === toml) {
    console.log(`${config} already has this database_id`);
  } else {
    writeFileSync(config, updated);
    console.log(`${config}: database_id of DB set to ${id}`);
  }

  for (const queue of queueNames(toml)) {
    const created = wrangler(["queues", "create", queue]);
    if (created.ok) console.log(`created queue ${queue}`);
    else if (isAlreadyExists(created.output)) console.log(`queue ${queue} exists`);
    else fail(`wrangler could not create the queue ${queue}`, created.output);
  }
  console.log("Cloudflare is ready: next, `npm run deploy` (docs/deploy.md)");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
