/**
 * `portcullis keys create|import|list|get|patch|delete`, and the rest of the group from
 * ./key-lifecycle.ts (revoke, rotate, credits, revoke-by-value, usage).
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { components } from "../../client/index.ts";
import { CreatedKey, Key as KeyAnswer, KeyDetail, KeyList, NoContent } from "../answers.ts";
import { UsageError } from "../errors.ts";
import { counterLine, keyRecord, keyTable, nextPage } from "../format.ts";
import {
  integer,
  type JsonObject,
  jsonObject,
  limits,
  list,
  type RefillOption,
  refill,
  refillOf,
  type Window,
} from "../parse.ts";
import { checked, print, printLine, secretArgument, sessionOf } from "../session.ts";
import { printCreated } from "./created-key.ts";
import { registerKeyLifecycle } from "./key-lifecycle.ts";

type Key = components["schemas"]["Key"];
type PatchKey = components["schemas"]["PatchKey"];
type CreateKey = components["schemas"]["CreateKey"];
type ImportKey = components["schemas"]["ImportKey"];

/** The settings `create` and `patch` share. */
interface KeySettings {
  name?: string;
  owner?: string;
  permission?: string[];
  role?: string[];
  meta?: JsonObject;
  plan?: string;
  limits?: Partial<Record<Window, number>>;
  ip?: string[];
  expiresAt?: string;
}

function addSettingOptions(command: Command): Command {
  return command
    .option("--name <name>", "a name for people")
    .option("--owner <ownerId>", "the owner's id (your user or organisation)")
    .option("--permission <permission>", "a permission (repeat, or comma-separate)", list)
    .option("--role <role>", "a role of the workspace (repeat, or comma-separate)", list)
    .option("--meta <json>", "a JSON object given back on each decision", jsonObject)
    .option("--plan <plan>", "a plan of the policy")
    .option("--limits <limits>", "per-window limits replacing the plan's, e.g. minute=30,day=1000", limits)
    .option("--ip <address>", "allowed IPv4/IPv6 address or CIDR (repeat, or comma-separate)", list)
    .option("--expires-at <time>", "an ISO 8601 time in the future");
}

/** Only the settings given on the command line, named as the API names them. */
function settingsBody(options: KeySettings) {
  const body = {
    name: options.name,
    ownerId: options.owner,
    permissions: options.permission,
    roles: options.role,
    meta: options.meta,
    plan: options.plan,
    limits: options.limits,
    ipAllowlist: options.ip,
    expiresAt: options.expiresAt,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<
    typeof body
  >;
}

interface CreateOptions extends KeySettings {
  workspace: string;
  type: string;
  credits?: number;
  refill?: RefillOption;
}

interface ImportOptions extends CreateOptions {
  key?: string;
  hash?: string;
}

/** The starting credits of `create` and `import`, as the API takes them. */
function creditsOf(options: CreateOptions) {
  if (options.refill !== undefined && options.credits === undefined) {
    throw new UsageError("--refill needs --credits.");
  }
  return options.credits === undefined
    ? {}
    : {
        credits: {
          remaining: options.credits,
          ...(options.refill === undefined ? {} : { refill: refillOf(options.refill) }),
        },
      };
}

interface ListOptions {
  workspace?: string;
  type?: string;
  owner?: string;
  query?: string;
  limit?: number;
  cursor?: string;
}

/** What `--unset` clears, and the value that clears it. */
const UNSET: Record<string, Partial<PatchKey>> = {
  name: { name: null },
  owner: { ownerId: null },
  plan: { plan: null },
  "expires-at": { expiresAt: null },
  permissions: { permissions: [] },
  roles: { roles: [] },
  ip: { ipAllowlist: [] },
  meta: { meta: {} },
};

interface PatchOptions extends KeySettings {
  enable?: boolean;
  disable?: boolean;
  unset?: string[];
}

function patchBody(options: PatchOptions): PatchKey {
  if (options.enable && options.disable) throw new UsageError("--enable and --disable exclude each other.");
  const body: PatchKey = Object.assign(
    {},
    ...(options.unset ?? []).map((field) => UNSET[field]),
    settingsBody(options),
    options.enable ? { enabled: true } : {},
    options.disable ? { enabled: false } : {},
  );
  if (Object.keys(body).length === 0) throw new UsageError("nothing to change: give at least one option.");
  return body;
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("create, list, read, change and revoke keys");

  addSettingOptions(
    keys
      .command("create")
      .description("create a key; prints the key once")
      .requiredOption("--workspace <id>", "the workspace (ws_...)")
      .requiredOption("--type <type>", "a key type of the policy, or admin"),
  )
    .option("--credits <n>", "a credit balance that allowed requests spend", integer(0))
    .option("--refill <interval:amount>", "reset the balance each UTC day or month, e.g. month:1000", refill)
    .action(async (options: CreateOptions, command: Command) => {
      const credits = creditsOf(options);
      const session = sessionOf(command);
      const body: CreateKey = {
        workspaceId: options.workspace,
        type: options.type,
        ...settingsBody(options),
        ...credits,
      };
      const created = await checked(CreatedKey, session.api.POST("/_portcullis/admin/v1/keys", { body }));
      printCreated(session, created);
    });

  addSettingOptions(
    keys
      .command("import")
      .description("adopt an existing key by its value or its hash; prints the record, never the key")
      .requiredOption("--workspace <id>", "the workspace (ws_...)")
      .requiredOption("--type <type>", "a key type of the policy, or admin"),
  )
    .option("--key <key>", 'the key\'s value, or "-" to read it from standard input')
    .option("--hash <hex>", "the SHA-256 of the whole key, in hex (the value itself stays elsewhere)")
    .option("--credits <n>", "a credit balance that allowed requests spend", integer(0))
    .option("--refill <interval:amount>", "reset the balance each UTC day or month, e.g. month:1000", refill)
    .action(async (options: ImportOptions, command: Command) => {
      if ((options.key === undefined) === (options.hash === undefined)) {
        throw new UsageError("give exactly one of --key and --hash.");
      }
      const credits = creditsOf(options);
      const session = sessionOf(command);
      const secret =
        options.key === undefined ? { hash: options.hash } : { key: await secretArgument(options.key) };
      const body: ImportKey = {
        workspaceId: options.workspace,
        type: options.type,
        ...secret,
        ...settingsBody(options),
        ...credits,
      };
      const imported = await checked(
        KeyAnswer,
        session.api.POST("/_portcullis/admin/v1/keys/import", { body }),
      );
      print(session, imported, (record: Key) => keyRecord(record, new Date()));
    });

  keys
    .command("list")
    .description("list keys, newest first")
    .option("--workspace <id>", "only this workspace's keys")
    .option("--type <type>", "only keys of this type")
    .option("--owner <ownerId>", "only this owner's keys")
    .option("-q, --query <prefix>", "only keys whose name or start begins with this (case counts)")
    .option("--limit <n>", "at most this many (1 to 100, default 50)", integer(1))
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (options: ListOptions, command: Command) => {
      const session = sessionOf(command);
      const page = await checked(
        KeyList,
        session.api.GET("/_portcullis/admin/v1/keys", {
          params: {
            query: {
              workspaceId: options.workspace,
              type: options.type,
              ownerId: options.owner,
              q: options.query,
              limit: options.limit,
              cursor: options.cursor,
            },
          },
        }),
      );
      print(session, page, ({ items, cursor }) =>
        [keyTable(items, new Date()), nextPage(cursor)].filter((line) => line !== undefined).join("\n"),
      );
    });

  keys
    .command("get")
    .description("read a key with its live counters")
    .argument("<id>", "the key's id (key_...)")
    .action(async (id: string, _options: object, command: Command) => {
      const session = sessionOf(command);
      const key = await checked(
        KeyDetail,
        session.api.GET("/_portcullis/admin/v1/keys/{id}", { params: { path: { id } } }),
      );
      print(session, key, ({ counters, ...record }) =>
        [keyRecord(record, new Date()), ...counters.limits.map(counterLine)].join("\n"),
      );
    });

  addSettingOptions(
    keys
      .command("patch")
      .description("change a key's settings; options not given stay as they are")
      .argument("<id>", "the key's id (key_...)"),
  )
    .option("--enable", "enable the key")
    .option("--disable", "disable the key (reversible, unlike revoke)")
    .addOption(
      new Option("--unset <field>", "clear a field (repeatable)")
        .choices(Object.keys(UNSET))
        .argParser((value: string, previous: string[] | undefined) => {
          if (!Object.hasOwn(UNSET, value))
            throw new InvalidArgumentError(`expected one of ${Object.keys(UNSET).join(", ")}.`);
          return [...(previous ?? []), value];
        }),
    )
    .action(async (id: string, options: PatchOptions, command: Command) => {
      const body = patchBody(options);
      const session = sessionOf(command);
      const key = await checked(
        KeyAnswer,
        session.api.PATCH("/_portcullis/admin/v1/keys/{id}", { params: { path: { id } }, body }),
      );
      print(session, key, (record: Key) => keyRecord(record, new Date()));
    });

  keys
    .command("delete")
    .description("revoke a key and remove its record (its hash stays reserved)")
    .argument("<id>", "the key's id (key_...)")
    .action(async (id: string, _options: object, command: Command) => {
      const session = sessionOf(command);
      await checked(
        NoContent,
        session.api.DELETE("/_portcullis/admin/v1/keys/{id}", { params: { path: { id } } }),
      );
      if (!session.json) printLine(`deleted ${id}`);
    });

  registerKeyLifecycle(keys);
}
