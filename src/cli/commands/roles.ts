/** `portcullis roles list|put|delete`. */
import type { Command } from "commander";
import { NoContent, Role, RoleList } from "../answers.ts";
import { UsageError } from "../errors.ts";
import { fields, table } from "../format.ts";
import { list } from "../parse.ts";
import { checked, print, printLine, sessionOf } from "../session.ts";

export function registerRoles(program: Command): void {
  const roles = program.command("roles").description("list, create or replace, and delete roles");

  roles
    .command("list")
    .description("list a workspace's roles and the policy's it does not replace")
    .option("--workspace <id>", "the workspace (an admin key: its own by default)")
    .action(async (options: { workspace?: string }, command: Command) => {
      const session = sessionOf(command);
      const answer = await checked(
        RoleList,
        session.api.GET("/_portcullis/admin/v1/roles", {
          params: { query: { workspaceId: options.workspace } },
        }),
      );
      print(session, answer, ({ items }) =>
        table(
          ["NAME", "SOURCE", "PERMISSIONS", "WORKSPACE", "UPDATED"],
          items.map((role) => [
            role.name,
            role.source,
            role.permissions.join(" "),
            role.workspaceId,
            role.updatedAt,
          ]),
        ),
      );
    });

  roles
    .command("put")
    .description("create or replace a role; every key holding it changes before this returns")
    .argument("<name>", "the role's name")
    .requiredOption("--workspace <id>", "the workspace (ws_...)")
    .option("--permission <permission>", "a permission of the role (repeat, or comma-separate)", list)
    .action(async (name: string, options: { workspace: string; permission?: string[] }, command: Command) => {
      if (options.permission === undefined)
        throw new UsageError("give the role's permissions with --permission.");
      const session = sessionOf(command);
      const role = await checked(
        Role,
        session.api.POST("/_portcullis/admin/v1/roles", {
          body: { workspaceId: options.workspace, name, permissions: options.permission },
        }),
      );
      print(session, role, () =>
        fields([
          ["name", role.name],
          ["workspace", role.workspaceId],
          ["permissions", role.permissions],
          ["created", role.createdAt],
          ["updated", role.updatedAt],
        ]),
      );
    });

  roles
    .command("delete")
    .description("delete a workspace role; its keys lose it, or get the policy's role of its name back")
    .argument("<name>", "the role's name")
    .option("--workspace <id>", "the workspace (an admin key: its own by default)")
    .action(async (name: string, options: { workspace?: string }, command: Command) => {
      const session = sessionOf(command);
      await checked(
        NoContent,
        session.api.DELETE("/_portcullis/admin/v1/roles/{name}", {
          params: { path: { name }, query: { workspaceId: options.workspace } },
        }),
      );
      if (!session.json) printLine(`deleted role ${name}`);
    });
}
