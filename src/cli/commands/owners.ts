/**
 * `portcullis owners get|put|list|revoke|roles`: the limits and credits shared by an owner's keys,
 * and the owner's roles, which keys of ownerScoped types hold their permissions within.
 */
import type { Command } from "commander";
import type { components } from "../../client/index.ts";
import { Owner as OwnerAnswer, OwnerList, OwnerRevoked } from "../answers.ts";
import { UsageError } from "../errors.ts";
import { counterLine, fields, nextPage, table, text } from "../format.ts";
import { integer, limits, list, type RefillOption, refill, refillOf, type Window } from "../parse.ts";
import { checked, print, type Session, sessionOf } from "../session.ts";

type Owner = components["schemas"]["Owner"];
type PutOwner = components["schemas"]["PutOwner"];

const WORKSPACE_HELP = "the owner's workspace (an admin key: its own by default)";

function ownerRecord(owner: Owner): string {
  return [
    fields([
      ["owner", owner.ownerId],
      ["workspace", owner.workspaceId],
      ["credits", owner.credits],
      ["roles", owner.roles],
      ["roles as of", owner.rolesAsOf],
      ["keys", owner.keyCount],
    ]),
    ...owner.limits.map(counterLine),
  ].join("\n");
}

/** Prints the owner's roles, and nothing else of it. */
function printRoles(session: Session, owner: Owner): void {
  print(session, { ownerId: owner.ownerId, roles: owner.roles, rolesAsOf: owner.rolesAsOf }, (roles) =>
    fields([
      ["owner", roles.ownerId],
      ["roles", roles.roles],
      ["roles as of", roles.rolesAsOf],
    ]),
  );
}

interface OwnerOptions {
  workspace?: string;
}

/** A command on one owner: its `<ownerId>` and `--workspace`. */
function ownerCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .argument("<ownerId>", "the owner's id, as the keys' ownerId")
    .option("--workspace <id>", WORKSPACE_HELP);
}

/** The path and query of a call on one owner. */
function ownerParams(ownerId: string, options: OwnerOptions) {
  return { path: { ownerId }, query: { workspaceId: options.workspace } };
}

/** The owner as `GET /owners/:ownerId` answers it. */
function getOwner(session: Session, ownerId: string, options: OwnerOptions): Promise<Owner> {
  return checked(
    OwnerAnswer,
    session.api.GET("/_portcullis/admin/v1/owners/{ownerId}", { params: ownerParams(ownerId, options) }),
  );
}

interface PutOptions extends OwnerOptions {
  limits?: Partial<Record<Window, number>>;
  credits?: number;
  refill?: RefillOption;
}

/** The owner's settings as PUT takes them: what is not given is none. */
function putBody(options: PutOptions): PutOwner {
  if (options.refill !== undefined && options.credits === undefined) {
    throw new UsageError("--refill needs --credits.");
  }
  return {
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.credits === undefined
      ? {}
      : {
          credits: {
            remaining: options.credits,
            ...(options.refill === undefined ? {} : { refill: refillOf(options.refill) }),
          },
        }),
  };
}

export function registerOwners(program: Command): void {
  const owners = program
    .command("owners")
    .description("read, set, list and revoke owners: limits and credits shared by an owner's keys");

  ownerCommand(
    owners,
    "get",
    "an owner's limits with live remaining, its credits and its number of keys",
  ).action(async (ownerId: string, options: OwnerOptions, command: Command) => {
    const session = sessionOf(command);
    print(session, await getOwner(session, ownerId, options), ownerRecord);
  });

  ownerCommand(
    owners,
    "put",
    "set an owner's limits and credits, replacing them: an option not given is none",
  )
    .option(
      "--limits <limits>",
      "per-window limits shared by the owner's keys, e.g. minute=100,day=10000",
      limits,
    )
    .option("--credits <n>", "a balance spent by the owner's keys without credits of their own", integer(0))
    .option("--refill <interval:amount>", "reset the balance each UTC day or month, e.g. month:1000", refill)
    .action(async (ownerId: string, options: PutOptions, command: Command) => {
      const body = putBody(options);
      const session = sessionOf(command);
      const owner = await checked(
        OwnerAnswer,
        session.api.PUT("/_portcullis/admin/v1/owners/{ownerId}", {
          params: ownerParams(ownerId, options),
          body,
        }),
      );
      print(session, owner, ownerRecord);
    });

  const roles = owners
    .command("roles")
    .description(
      "read or set an owner's roles: keys of ownerScoped types hold a permission only while they grant it",
    );

  ownerCommand(roles, "get", "the owner's roles and when they are as of").action(
    async (ownerId: string, options: OwnerOptions, command: Command) => {
      const session = sessionOf(command);
      printRoles(session, await getOwner(session, ownerId, options));
    },
  );

  ownerCommand(
    roles,
    "set",
    "set the owner's roles, and nothing else; in force for every request of its keys when the command returns",
  )
    .option("--role <name>", "a role of the workspace or of the policy (repeat, or comma-separate)", list)
    .option("--none", "no roles: the owner's ownerScoped keys hold no permission")
    .action(
      async (
        ownerId: string,
        options: OwnerOptions & { role?: string[]; none?: boolean },
        command: Command,
      ) => {
        if ((options.role === undefined) === (options.none !== true)) {
          throw new UsageError("give the owner's roles with --role, or --none for none.");
        }
        const session = sessionOf(command);
        const owner = await checked(
          OwnerAnswer,
          session.api.PUT("/_portcullis/admin/v1/owners/{ownerId}/roles", {
            params: ownerParams(ownerId, options),
            body: { roles: options.role ?? [] },
          }),
        );
        printRoles(session, owner);
      },
    );

  owners
    .command("list")
    .description("the owners set with put, by owner id")
    .option("--workspace <id>", "the workspace (an admin key: its own by default)")
    .option("--limit <n>", "at most this many (1 to 100, default 50)", integer(1))
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (options: { workspace?: string; limit?: number; cursor?: string }, command: Command) => {
      const session = sessionOf(command);
      const page = await checked(
        OwnerList,
        session.api.GET("/_portcullis/admin/v1/owners", {
          params: { query: { workspaceId: options.workspace, limit: options.limit, cursor: options.cursor } },
        }),
      );
      print(session, page, ({ items, cursor }) =>
        [
          table(
            ["OWNER", "LIMITS", "CREDITS", "KEYS"],
            items.map((owner) => [owner.ownerId, text(owner.limits), text(owner.credits), owner.keyCount]),
          ),
          nextPage(cursor),
        ]
          .filter((line) => line !== undefined)
          .join("\n"),
      );
    });

  ownerCommand(
    owners,
    "revoke",
    "revoke every live key of an owner, in force for all of them when the command returns",
  ).action(async (ownerId: string, options: OwnerOptions, command: Command) => {
    const session = sessionOf(command);
    const answer = await checked(
      OwnerRevoked,
      session.api.POST("/_portcullis/admin/v1/owners/{ownerId}/revoke", {
        params: ownerParams(ownerId, options),
      }),
    );
    print(session, answer, ({ revoked }) => `revoked ${text(revoked)} keys of owner ${text(ownerId)}`);
  });
}
