/**
 * Deploying (docs/deploy.md): `npm run setup:cloudflare` creates or reuses the D1 database and the
 * two queues and writes the database's id into wrangler.toml; `npm run deploy` refuses a
 * wrangler.toml whose `database_id` is still the placeholder. Plain Node, no network: setup runs
 * against a fake wrangler that answers with wrangler's own output.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

interface SetupModule {
  parseDatabaseId(output: string): string | null;
  withDatabaseId(toml: string, id: string, binding?: string): string;
}
// A computed specifier: the script is plain JavaScript for Node 20, without type declarations.
const SETUP_SCRIPT = new URL("../../scripts/setup-cloudflare.mjs", import.meta.url).href;
const { parseDatabaseId, withDatabaseId } = (await import(SETUP_SCRIPT)) as SetupModule;

const ZEROS = "00000000-0000-0000-0000-000000000000";
const REAL_ID = "3f1c2e9a-5b7d-4c8e-9a1f-2d3e4f5a6b7c";
const OTHER_ID = "9d8c7b6a-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
const WRANGLER_TOML = readFileSync("wrangler.toml", "utf8");

/**
 * What wrangler 4.156.2 prints after `d1 create` (the handler in src/d1/create.ts): a TOML snippet
 * when the configuration is wrangler.toml, a JSON snippet when it is JSON or absent. Recorded from
 * the pinned wrangler against a local fake of the Cloudflare API.
 */
const BANNER = " ⛅️ wrangler 4.156.2\n───────────────────────────────────────────────\n";
const createdToml = (id: string) =>
  `\n${BANNER}✅ Successfully created DB 'portcullis' in region WEUR\nCreated your new D1 database.\n\n` +
  "To access your new D1 Database in your Worker, add the following snippet to your configuration file:\n" +
  `[[d1_databases]]\nbinding = "portcullis"\ndatabase_name = "portcullis"\ndatabase_id = "${id}"\n\n`;
const CREATED_JSON =
  `\n${BANNER}✅ Successfully created DB 'portcullis' in region WEUR\nCreated your new D1 database.\n\n` +
  "To access your new D1 Database in your Worker, add the following snippet to your configuration file:\n" +
  `{\n  "d1_databases": [\n    {\n      "binding": "portcullis",\n      "database_name": "portcullis",\n` +
  `      "database_id": "${REAL_ID}"\n    }\n  ]\n}\n`;
const DB_EXISTS =
  `\n${BANNER}\n\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m ` +
  "\u001b[1mA database with that name already exists\u001b[0m\n\n";
const queueTaken = (name: string) =>
  `\n${BANNER}🌀 Creating queue '${name}'\n\n✘ [ERROR] A request to the Cloudflare API (/accounts/0123/queues) failed.\n\n` +
  `  Queue name '${name}' is already taken. Please use a different name and try again. [code: 11009]\n`;
const queueCreated = (name: string) =>
  `\n${BANNER}🌀 Creating queue '${name}'\n✅ Created queue '${name}'\n\n` +
  `Configure your Worker to send messages to this queue:\n\n[[queues.producers]]\nqueue = "${name}"\n`;

function tempConfig(toml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "portcullis-deploy-")), "wrangler.toml");
  writeFileSync(file, toml);
  return file;
}

function node(script: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The lines of `after` that differ from `before` (same number of lines expected). */
function changedLines(before: string, after: string): string[] {
  const old = before.split("\n");
  const lines = after.split("\n");
  expect(lines).toHaveLength(old.length);
  return lines.filter((line, i) => line !== old[i]);
}

describe("parseDatabaseId: the id in what `wrangler d1 create` prints", () => {
  it("reads the TOML snippet", () => {
    expect(parseDatabaseId(createdToml(REAL_ID))).toBe(REAL_ID);
  });

  it("reads the JSON snippet", () => {
    expect(parseDatabaseId(CREATED_JSON)).toBe(REAL_ID);
  });

  it("reads colored output", () => {
    expect(parseDatabaseId(`\u001b[2m${createdToml(REAL_ID)}\u001b[0m`)).toBe(REAL_ID);
  });

  it("finds no id in an error or in the placeholder", () => {
    expect(parseDatabaseId(DB_EXISTS)).toBeNull();
    expect(parseDatabaseId(`database_id = "${ZEROS}"`)).toBeNull();
    expect(parseDatabaseId('database_id = "not-a-uuid"')).toBeNull();
  });
});

describe("withDatabaseId: the id written into wrangler.toml", () => {
  it("changes only the database_id line of the DB block, keeping comments", () => {
    const after = withDatabaseId(WRANGLER_TOML, REAL_ID);
    expect(changedLines(WRANGLER_TOML, after)).toEqual([`database_id = "${REAL_ID}"`]);
    expect(after).toContain("# `npm run setup:cloudflare` creates the database");
  });

  it("is idempotent, and replaces a stale id", () => {
    const once = withDatabaseId(WRANGLER_TOML, REAL_ID);
    expect(withDatabaseId(once, REAL_ID)).toBe(once);
    expect(changedLines(once, withDatabaseId(once, OTHER_ID))).toEqual([`database_id = "${OTHER_ID}"`]);
  });

  it("leaves another binding's database and a trailing comment alone", () => {
    const toml =
      `[[d1_databases]]\nbinding = "OTHER"\ndatabase_name = "other"\ndatabase_id = "${OTHER_ID}"\n\n` +
      `[[d1_databases]]\nbinding = "DB"\ndatabase_name = "portcullis"\n  database_id = "${ZEROS}" # set by setup\n`;
    expect(changedLines(toml, withDatabaseId(toml, REAL_ID))).toEqual([
      `  database_id = "${REAL_ID}" # set by setup`,
    ]);
  });

  it("refuses a configuration without the DB block rather than guess", () => {
    expect(() => withDatabaseId('name = "x"\n', REAL_ID)).toThrow(/d1_databases/);
  });
});

describe("npm run deploy: the check before it", () => {
  it("refuses the placeholder database_id, naming npm run setup:cloudflare", () => {
    const { status, output } = node("scripts/deploy-check.mjs", ["--config", tempConfig(WRANGLER_TOML)]);
    expect(status).toBe(1);
    expect(output).toContain("npm run setup:cloudflare");
    expect(output).toContain("database_id");
  });

  it("accepts a real id", () => {
    const config = tempConfig(WRANGLER_TOML.replace(ZEROS, REAL_ID));
    const { status, output } = node("scripts/deploy-check.mjs", ["--config", config]);
    expect(output).toContain("ready to deploy");
    expect(status).toBe(0);
  });

  it("runs before every deploy", () => {
    const scripts = JSON.parse(readFileSync("package.json", "utf8")).scripts;
    expect(scripts.predeploy).toContain("node scripts/deploy-check.mjs");
    expect(scripts.predeploy).toContain("node scripts/assets.mjs");
    expect(scripts["setup:cloudflare"]).toBe("node scripts/setup-cloudflare.mjs");
  });
});

/**
 * A fake wrangler: an account in state.json (databases and queues), every call appended to
 * calls.log, and wrangler's recorded output for each command.
 */
function fakeWrangler(account: { databases: { uuid: string; name: string }[]; queues: string[] }) {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-fake-wrangler-"));
  writeFileSync(join(dir, "state.json"), JSON.stringify(account));
  const outputs = {
    created: createdToml("__ID__"),
    exists: DB_EXISTS,
    queueCreated: queueCreated("__NAME__"),
    queueTaken: queueTaken("__NAME__"),
  };
  const script = join(dir, "wrangler");
  writeFileSync(
    script,
    `#!/usr/bin/env node
const { appendFileSync, readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const dir = ${JSON.stringify(dir)};
const out = ${JSON.stringify(outputs)};
const args = process.argv.slice(2);
appendFileSync(join(dir, "calls.log"), args.join(" ") + "\\n");
const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
const save = () => writeFileSync(join(dir, "state.json"), JSON.stringify(state));
const [group, command, name] = args;
if (state.loggedOut) {
  process.stderr.write("✘ [ERROR] You are not authenticated. Please run \`wrangler login\`.\\n");
  process.exit(1);
}
if (group === "d1" && command === "list" && args.includes("--json")) {
  process.stdout.write(JSON.stringify(state.databases.map((db) => ({ ...db, version: "production" })), null, 2) + "\\n");
} else if (group === "d1" && command === "create") {
  if (state.databases.some((db) => db.name === name)) {
    process.stderr.write(out.exists);
    process.exit(1);
  }
  state.databases.push({ uuid: ${JSON.stringify(REAL_ID)}, name });
  save();
  process.stdout.write(out.created.replace("__ID__", ${JSON.stringify(REAL_ID)}));
} else if (group === "queues" && command === "create") {
  if (state.queues.includes(name)) {
    process.stderr.write(out.queueTaken.replaceAll("__NAME__", name));
    process.exit(1);
  }
  state.queues.push(name);
  save();
  process.stdout.write(out.queueCreated.replaceAll("__NAME__", name));
} else {
  process.stderr.write("fake wrangler: unexpected " + args.join(" ") + "\\n");
  process.exit(2);
}
`,
  );
  chmodSync(script, 0o755);
  const calls = () => {
    const log = join(dir, "calls.log");
    return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  };
  const state = () => JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
  return {
    script,
    calls,
    state,
    setState: (value: unknown) => writeFileSync(join(dir, "state.json"), JSON.stringify(value)),
  };
}

function setup(wrangler: string, config: string) {
  return node("scripts/setup-cloudflare.mjs", ["--config", config], {
    PORTCULLIS_WRANGLER: wrangler,
    CLOUDFLARE_API_TOKEN: "tok_do-not-print-me",
  });
}

describe("npm run setup:cloudflare (against a fake wrangler)", () => {
  it("creates the database and both queues on a new account, and writes the id", () => {
    const fake = fakeWrangler({ databases: [], queues: [] });
    const config = tempConfig(WRANGLER_TOML);
    const { status, output } = setup(fake.script, config);
    expect(status, output).toBe(0);
    expect(fake.calls()).toEqual([
      `d1 list --json --config ${config}`,
      `d1 create portcullis --config ${config}`,
      `queues create portcullis-events --config ${config}`,
      `queues create portcullis-events-failed --config ${config}`,
    ]);
    expect(changedLines(WRANGLER_TOML, readFileSync(config, "utf8"))).toEqual([`database_id = "${REAL_ID}"`]);
    expect(fake.state().queues).toEqual(["portcullis-events", "portcullis-events-failed"]);
    expect(output).toContain(`created D1 database portcullis (${REAL_ID})`);
    expect(output).toContain("created queue portcullis-events-failed");
    expect(output).not.toContain("tok_do-not-print-me");
  });

  it("is idempotent: a second run reuses everything and changes nothing", () => {
    const fake = fakeWrangler({ databases: [], queues: [] });
    const config = tempConfig(WRANGLER_TOML);
    expect(setup(fake.script, config).status).toBe(0);
    const written = readFileSync(config, "utf8");
    const again = setup(fake.script, config);
    expect(again.status, again.output).toBe(0);
    expect(readFileSync(config, "utf8")).toBe(written);
    expect(fake.calls().filter((call) => call.startsWith("d1 create"))).toHaveLength(1);
    expect(again.output).toContain(`D1 database portcullis exists (${REAL_ID})`);
    expect(again.output).toContain("queue portcullis-events exists");
    expect(again.output).toContain("wrangler.toml already has this database_id");
  });

  it("reuses a database of that name the account already has", () => {
    const fake = fakeWrangler({
      databases: [{ uuid: OTHER_ID, name: "portcullis" }],
      queues: ["portcullis-events"],
    });
    const config = tempConfig(WRANGLER_TOML);
    const { status, output } = setup(fake.script, config);
    expect(status, output).toBe(0);
    expect(fake.calls().some((call) => call.startsWith("d1 create"))).toBe(false);
    expect(changedLines(WRANGLER_TOML, readFileSync(config, "utf8"))).toEqual([
      `database_id = "${OTHER_ID}"`,
    ]);
    expect(fake.state().queues).toEqual(["portcullis-events", "portcullis-events-failed"]);
  });

  it("stops on a wrangler failure, with wrangler's message, and leaves wrangler.toml alone", () => {
    const fake = fakeWrangler({ databases: [], queues: [] });
    fake.setState({ databases: [], queues: [], loggedOut: true });
    const config = tempConfig(WRANGLER_TOML);
    const { status, output } = setup(fake.script, config);
    expect(status).not.toBe(0);
    expect(output).toContain("You are not authenticated");
    expect(output).toContain("npx wrangler login");
    expect(readFileSync(config, "utf8")).toBe(WRANGLER_TOML);
    expect(fake.calls()).toHaveLength(1);
  });
});
