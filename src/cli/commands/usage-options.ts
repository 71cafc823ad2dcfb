/** The options of a usage report, shared by `keys usage` and `workspaces usage`. */
import { type Command, Option } from "commander";

export interface UsageOptions {
  granularity?: "day" | "hour";
  from?: string;
  to?: string;
}

export function addUsageOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--granularity <unit>", "one point per day (default) or per hour").choices(["day", "hour"]),
    )
    .option("--from <time>", "first day (YYYY-MM-DD) or hour (YYYY-MM-DDTHH:00:00Z), inclusive, UTC")
    .option("--to <time>", "last day or hour, inclusive, UTC");
}

export function usageQuery(options: UsageOptions): UsageOptions {
  return { granularity: options.granularity, from: options.from, to: options.to };
}
