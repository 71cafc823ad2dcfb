/** `portcullis workspaces list|create|get|usage`. */
import type { Command } from "commander";
import type { components } from "../../client/index.ts";
import { Usage, Workspace as WorkspaceAnswer, WorkspaceList } from "../answers.ts";
import { usageChart } from "../chart.ts";
import { fields, nextPage, table } from "../format.ts";
import { integer } from "../parse.ts";
import { checked, print, sessionOf } from "../session.ts";
import { addUsageOptions, type UsageOptions, usageQuery } from "./usage-options.ts";

type Workspace = components["schemas"]["Workspace"];

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
    .action(async (name: string, options: { plan?: string }, command: Command) => {
      const session = sessionOf(command);
      const workspace = await checked(
        WorkspaceAnswer,
        session.api.POST("/_portcullis/admin/v1/workspaces", {
          body: { name, ...(options.plan === undefined ? {} : { plan: options.plan }) },
        }),
      );
      print(session, workspace, workspaceRecord);
    });

  workspaces
    .command("get")
    .description("read a workspace")
    .argument("<id>", "the workspace's id (ws_...)")
    .action(async (id: string, _options: object, command: Command) => {
      const session = sessionOf(command);
      const workspace = await checked(
        WorkspaceAnswer,
        session.api.GET("/_portcullis/admin/v1/workspaces/{id}", { params: { path: { id } } }),
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
