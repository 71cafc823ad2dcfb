/** `portcullis workspaces list|create|get|patch|usage`. */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { components } from "../../client/index.ts";
import { Usage, Workspace as WorkspaceAnswer, WorkspaceList } from "../answers.ts";
import { usageChart } from "../chart.ts";
import { BadAnswerError, NotFoundError, UsageError } from "../errors.ts";
import { fields, nextPage, table, text } from "../format.ts";
import { integer } from "../parse.ts";
import { checked, print, sessionOf } from "../session.ts";
import { addUsageOptions, type UsageOptions, usageQuery } from "./usage-options.ts";

type Workspace = components["schemas"]["Workspace"];
type PatchWorkspace = components["schemas"]["PatchWorkspace"];

const EXTERNAL_ID_HELP =
  "the provider's own id of the organisation it serves (root token only), e.g. org_2bX9kLm";

/** What `patch --unset` clears. */
const UNSET: Record<string, PatchWorkspace> = {
  plan: { plan: null },
  "external-id": { externalId: null },
};

interface PatchOptions {
  name?: string;
  plan?: string;
  externalId?: string;
  unset?: string[];
}

function patchBody(options: PatchOptions): PatchWorkspace {
  const given = {
    name: options.name,
    plan: options.plan,
    externalId: options.externalId,
  };
  const body: PatchWorkspace = Object.assign(
    {},
    ...(options.unset ?? []).map((field) => UNSET[field]),
    Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)),
  );
  if (Object.keys(body).length === 0) throw new UsageError("nothing to change: give at least one option.");
  return body;
}

function workspaceRecord(workspace: Workspace): string {
  return fields([
    ["id", workspace.id],
    ["name", workspace.name],
    ["plan", workspace.plan],
    ["external id", workspace.externalId],
    ["created", workspace.createdAt],
    ["updated", workspace.updatedAt],
  ]);
}

export function registerWorkspaces(program: Command): void {
  const workspaces = program
    .command("workspaces")
    .description("list, create and read workspaces, and their usage");

  workspaces
    .command("list")
    .description("list workspaces (an admin key sees its own)")
    .option("--limit <n>", "at most this many (1 to 100, default 50)", integer(1))
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (options: { limit?: number; cursor?: string }, command: Command) => {
      const session = sessionOf(command);
      const page = await checked(
        WorkspaceList,
        session.api.GET("/_portcullis/admin/v1/workspaces", {
          params: { query: { limit: options.limit, cursor: options.cursor } },
        }),
      );
      print(session, page, ({ items, cursor }) =>
        [
          table(
            ["ID", "NAME", "PLAN", "CREATED"],
            items.map((workspace) => [workspace.id, workspace.name, workspace.plan, workspace.createdAt]),
          ),
          nextPage(cursor),
        ]
          .filter((line) => line !== undefined)
          .join("\n"),
      );
    });

  workspaces
    .command("create")
    .description("create a workspace (root token only)")
    .argument("<name>", "the workspace's name")
    .option("--plan <plan>", "a plan of the policy")
    .option("--external-id <externalId>", EXTERNAL_ID_HELP)
    .action(async (name: string, options: { plan?: string; externalId?: string }, command: Command) => {
      const session = sessionOf(command);
      const workspace = await checked(
        WorkspaceAnswer,
        session.api.POST("/_portcullis/admin/v1/workspaces", {
          body: {
            name,
            ...(options.plan === undefined ? {} : { plan: options.plan }),
            ...(options.externalId === undefined ? {} : { externalId: options.externalId }),
          },
        }),
      );
      print(session, workspace, workspaceRecord);
    });

  workspaces
    .command("get")
    .description("read a workspace, by its id or by its external id")
    .argument("[id]", "the workspace's id (ws_...)")
    .option("--external-id <externalId>", "find the workspace with this external id instead")
    .action(async (id: string | undefined, options: { externalId?: string }, command: Command) => {
      if ((id === undefined) === (options.externalId === undefined)) {
        throw new UsageError("give the workspace's id or --external-id, not both.");
      }
      const session = sessionOf(command);
      if (id !== undefined) {
        const workspace = await checked(
          WorkspaceAnswer,
          session.api.GET("/_portcullis/admin/v1/workspaces/{id}", { params: { path: { id } } }),
        );
        print(session, workspace, workspaceRecord);
        return;
      }
      const page = await checked(
        WorkspaceList,
        session.api.GET("/_portcullis/admin/v1/workspaces", {
          params: { query: { externalId: options.externalId } },
        }),
      );
      const [workspace, ...others] = page.items;
      if (workspace === undefined) {
        throw new NotFoundError(
          `no workspace has external id ${text(options.externalId)} (that this credential sees).`,
        );
      }
      if (others.length > 0 || workspace.externalId !== options.externalId) {
        throw new BadAnswerError(
          "the server's answer is not what Portcullis answers to this request: not the one workspace of this external id. The request's outcome is unknown.",
        );
      }
      print(session, workspace, workspaceRecord);
    });

  workspaces
    .command("patch")
    .description("change a workspace's name, plan or external id; options not given stay as they are")
    .argument("<id>", "the workspace's id (ws_...)")
    .option("--name <name>", "a new name")
    .option("--plan <plan>", "a plan of the policy")
    .option("--external-id <externalId>", EXTERNAL_ID_HELP)
    .addOption(
      new Option("--unset <field>", "clear a field: plan or external-id (repeatable)")
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
      const workspace = await checked(
        WorkspaceAnswer,
        session.api.PATCH("/_portcullis/admin/v1/workspaces/{id}", { params: { path: { id } }, body }),
      );
      print(session, workspace, workspaceRecord);
    });

  addUsageOptions(
    workspaces
      .command("usage")
      .description("requests of the workspace's keys per day or hour, as a chart")
      .argument("<id>", "the workspace's id (ws_...)"),
  ).action(async (id: string, options: UsageOptions, command: Command) => {
    const session = sessionOf(command);
    const usage = await checked(
      Usage,
      session.api.GET("/_portcullis/admin/v1/workspaces/{id}/usage", {
        params: { path: { id }, query: usageQuery(options) },
      }),
    );
    print(session, usage, ({ items }) => usageChart(items, process.stdout.columns ?? 80));
  });
}
