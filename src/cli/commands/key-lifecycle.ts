/** `portcullis keys revoke|rotate|credits|revoke-by-value|usage`: a key's life after creation. */
import type { Command } from "commander";
import type { components } from "../../client/index.ts";
import { CreatedKey, Key as KeyAnswer, Usage } from "../answers.ts";
import { usageChart } from "../chart.ts";
import { UsageError } from "../errors.ts";
import { keyRecord } from "../format.ts";
import { integer, type RefillOption, refill, refillOf } from "../parse.ts";
import { checked, print, secretArgument, sessionOf } from "../session.ts";
import { printCreated } from "./created-key.ts";
import { addUsageOptions, type UsageOptions, usageQuery } from "./usage-options.ts";

type Key = components["schemas"]["Key"];
type ChangeCredits = components["schemas"]["ChangeCredits"];

const asRecord = (key: Key) => keyRecord(key, new Date());

interface CreditOptions {
  set?: number;
  increment?: number;
  decrement?: number;
  refill?: RefillOption;
}

/** Exactly one of `--set`, `--increment`, `--decrement`. */
function creditChange(options: CreditOptions): ChangeCredits {
  const ops = (["set", "increment", "decrement"] as const).filter((op) => options[op] !== undefined);
  const [op] = ops;
  if (op === undefined || ops.length > 1) {
    throw new UsageError("give exactly one of --set, --increment, --decrement.");
  }
  return {
    op,
    amount: options[op] as number,
    ...(options.refill === undefined ? {} : { refill: refillOf(options.refill) }),
  };
}

export function registerKeyLifecycle(keys: Command): void {
  keys
    .command("revoke")
    .description("revoke a key for good; in force everywhere when this returns")
    .argument("<id>", "the key's id (key_...)")
    .action(async (id: string, _options: object, command: Command) => {
      const session = sessionOf(command);
      const key = await checked(
        KeyAnswer,
        session.api.POST("/_portcullis/admin/v1/keys/{id}/revoke", { params: { path: { id } } }),
      );
      print(session, key, asRecord);
    });

  keys
    .command("revoke-by-value")
    .description("revoke the key with this value, e.g. a leaked one")
    .argument("<key>", 'the key itself, or "-" to read it from standard input')
    .action(async (value: string, _options: object, command: Command) => {
      const session = sessionOf(command);
      const key = await checked(
        KeyAnswer,
        session.api.POST("/_portcullis/admin/v1/keys/revoke-by-value", {
          body: { key: await secretArgument(value) },
        }),
      );
      print(session, key, asRecord);
    });

  keys
    .command("rotate")
    .description("a new key with the same settings; prints the new key once")
    .argument("<id>", "the key's id (key_...)")
    .option(
      "--grace <seconds>",
      "how long the old key keeps working (default 0, at most 30 days)",
      integer(0),
    )
    .action(async (id: string, options: { grace?: number }, command: Command) => {
      const session = sessionOf(command);
      const created = await checked(
        CreatedKey,
        session.api.POST("/_portcullis/admin/v1/keys/{id}/rotate", {
          params: { path: { id } },
          body: { gracePeriodSeconds: options.grace ?? 0 },
        }),
      );
      printCreated(session, created);
    });

  keys
    .command("credits")
    .description("change a key's credit balance, atomically")
    .argument("<id>", "the key's id (key_...)")
    .option("--set <n>", "set the balance", integer(0))
    .option("--increment <n>", "add to the balance", integer(0))
    .option("--decrement <n>", "take from the balance", integer(0))
    .option(
      "--refill <interval:amount>",
      'reset the balance each UTC day or month (month:1000), or "none"',
      refill,
    )
    .action(async (id: string, options: CreditOptions, command: Command) => {
      const body = creditChange(options);
      const session = sessionOf(command);
      const key = await checked(
        KeyAnswer,
        session.api.POST("/_portcullis/admin/v1/keys/{id}/credits", { params: { path: { id } }, body }),
      );
      print(session, key, asRecord);
    });

  addUsageOptions(
    keys
      .command("usage")
      .description("a key's requests per day or hour, allowed and denied, as a chart")
      .argument("<id>", "the key's id (key_...)"),
  ).action(async (id: string, options: UsageOptions, command: Command) => {
    const session = sessionOf(command);
    const usage = await checked(
      Usage,
      session.api.GET("/_portcullis/admin/v1/keys/{id}/usage", {
        params: { path: { id }, query: usageQuery(options) },
      }),
    );
    print(session, usage, ({ items }) => usageChart(items, process.stdout.columns ?? 80));
  });
}
