/** `portcullis verify <key>`: the decision a backend would get for this key. */
import type { Command } from "commander";
import { type VerifyResponse, verifyKey } from "../../client/index.ts";
import { VerifyResponse as VerifyAnswer } from "../answers.ts";
import { fields } from "../format.ts";
import { integer, list } from "../parse.ts";
import { checked, print, secretArgument, sessionOf } from "../session.ts";

interface VerifyOptions {
  permission?: string[];
  anyPermission?: string[];
  keyType?: string[];
  cost?: number;
  ip?: string;
}

function decisionText(decision: VerifyResponse): string {
  const { ratelimit } = decision;
  return fields([
    ["valid", decision.valid ? "yes" : "NO"],
    ["code", decision.code],
    ["key", decision.keyId],
    ["workspace", decision.workspaceId],
    ["type", decision.type],
    ["owner", decision.ownerId],
    ["permissions", decision.permissions],
    ["plan", decision.plan],
    ["meta", decision.meta],
    ["expires", decision.expiresAt],
    [
      "rate limit",
      ratelimit &&
        `${ratelimit.remaining} of ${ratelimit.limit} per ${ratelimit.window} left, one more in ${ratelimit.reset} s`,
    ],
    ["credits", decision.credits?.remaining],
  ]);
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("verify a key as a backend does; counts against its limits and credits")
    .argument("<key>", 'the key itself, or "-" to read it from standard input')
    .option("--permission <permission>", "require this permission (repeat, or comma-separate)", list)
    .option("--any-permission <permission>", "require one of these permissions (repeatable)", list)
    .option("--key-type <type>", "require one of these key types (repeatable)", list)
    .option("--cost <n>", "credits to spend (default 1)", integer(0))
    .option("--ip <address>", "the caller's IP address, checked against the key's allowlist")
    .addHelpText(
      "after",
      "\nA refused key is not an error: the decision says valid NO and why, and the exit code is 0.",
    )
    .action(async (value: string, options: VerifyOptions, command: Command) => {
      const session = sessionOf(command);
      const decision = await checked(
        VerifyAnswer,
        verifyKey(session.api, await secretArgument(value), {
          permissions: options.permission,
          anyPermissions: options.anyPermission,
          keyTypes: options.keyType,
          cost: options.cost,
          ip: options.ip,
        }),
      );
      print(session, decision, decisionText);
    });
}
