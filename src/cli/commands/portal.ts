/**
 * `portcullis portal check <token>`: the portal as a member meets it, with a token from your own
 * login: the workspace it lands in, the member's roles and portal permissions, the key types it
 * may create and their limits. The way to check the policy's `portal` settings (claims, roles,
 * plans) against real tokens before a customer does.
 */
import type { Command } from "commander";
import { PortcullisError } from "../../client/index.ts";
import { PortalError, type PortalSession } from "../../client/portal.ts";
import { PortalSession as SessionAnswer } from "../answers.ts";
import { fields } from "../format.ts";
import { checked, portalSessionOf, print, secretArgument } from "../session.ts";

function keyTypeText(type: PortalSession["keyTypes"][number]): string {
  const limits = type.limits.map(({ window, max }) => `${window} ${max === null ? "any" : `<= ${max}`}`);
  return [
    `${type.type} "${type.label}" (${type.ownedBy})`,
    type.canCreate ? "can create" : "cannot create",
    `grantable ${type.grantable.map(({ permission }) => permission).join(", ") || "none"}`,
    ...(limits.length > 0 ? [`limits ${limits.join(", ")}`] : []),
  ].join("; ");
}

function sessionText(session: PortalSession): string {
  const { workspace, member, limits } = session;
  return fields([
    ["workspace", `${workspace.name} (${workspace.id}, plan ${workspace.plan ?? "none"})`],
    ["member", member.name === null ? member.subject : `${member.subject} (${member.name})`],
    ["roles", member.roles.join(" ") || "none"],
    ["permissions", session.permissions.join(" ") || "none"],
    ...session.keyTypes.map((type): [string, unknown] => ["key type", keyTypeText(type)]),
    [
      "maximums",
      `${limits.maxKeysPerWorkspace} keys a workspace, ${limits.maxKeysPerMember} a member, lifetime ${
        limits.maxLifetimeDays === null ? "any" : `${limits.maxLifetimeDays} days`
      }`,
    ],
  ]);
}

export function registerPortal(program: Command): void {
  const portal = program.command("portal").description("check the self-service portal as a member meets it");
  portal
    .command("check")
    .description("what a member's token may do in the portal: workspace, roles, permissions, key types")
    .argument("<token>", 'a member\'s token from your login (JWT), or "-" to read it from standard input')
    .addHelpText(
      "after",
      "\nNeeds --url (or PORTCULLIS_URL), not the admin credential: the portal takes the member's token alone. A refusal (401 invalid_token, 403 workspace_unknown) is printed as a problem, exit code 1.",
    )
    .action(async (value: string, _options: unknown, command: Command) => {
      const session = portalSessionOf(command, await secretArgument(value));
      const answer = session.portal.session().catch((error: unknown) => {
        // The portal's refusals are problem bodies like the admin API's (checked when printed):
        // reported the same way.
        if (!(error instanceof PortalError)) throw error;
        throw new PortcullisError(error.problem as unknown as PortcullisError["problem"]);
      });
      print(session, await checked(SessionAnswer, answer), sessionText);
    });
}
