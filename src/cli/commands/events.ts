/** `portcullis events list`: recent events with each webhook's delivery status. */
import { type Command, Option } from "commander";
import { type components, EVENT_TYPES } from "../../client/index.ts";
import { EventList } from "../answers.ts";
import { nextPage, table, text } from "../format.ts";
import { integer } from "../parse.ts";
import { checked, print, sessionOf } from "../session.ts";

type Event = components["schemas"]["Event"];

/** What the event is about: its key, or for `owner.revoked` its owner. */
function subjectOf(event: Event): unknown {
  return event.data.keyId ?? event.data.ownerId;
}

/** Each webhook by its index in the policy's `webhooks`, its status and attempts. */
function deliveriesOf(event: Event): string {
  return event.deliveries
    .map(
      (delivery) =>
        `#${text(delivery.webhook)} ${text(delivery.status)} (${text(delivery.attempts)} ${delivery.attempts === 1 ? "attempt" : "attempts"})`,
    )
    .join(", ");
}

interface ListOptions {
  workspace?: string;
  type?: Event["type"];
  limit?: number;
  cursor?: string;
}

export function registerEvents(program: Command): void {
  const events = program
    .command("events")
    .description("events of the last 30 days and their webhook deliveries");

  events
    .command("list")
    .description("events, newest first, with each webhook's delivery status (pending, delivered, failed)")
    .option("--workspace <id>", "only this workspace's events")
    .addOption(new Option("--type <type>", "only events of this type").choices(EVENT_TYPES))
    .option("--limit <n>", "at most this many (1 to 100, default 50)", integer(1))
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (options: ListOptions, command: Command) => {
      const session = sessionOf(command);
      const page = await checked(
        EventList,
        session.api.GET("/_portcullis/admin/v1/events", {
          params: {
            query: {
              workspaceId: options.workspace,
              type: options.type,
              limit: options.limit,
              cursor: options.cursor,
            },
          },
        }),
      );
      print(session, page, ({ items, cursor }) =>
        [
          table(
            ["AT", "TYPE", "ID", "SUBJECT", "DELIVERIES"],
            items.map((event) => [
              event.at,
              event.type,
              event.id,
              text(subjectOf(event)),
              deliveriesOf(event),
            ]),
          ),
          nextPage(cursor),
        ]
          .filter((line) => line !== undefined)
          .join("\n"),
      );
    });
}
