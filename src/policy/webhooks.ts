/**
 * Which webhooks of the policy receive an event: those whose `events` list its type and whose
 * `workspaceIds` list its workspace (an absent list lets every value pass). A webhook is named
 * by its index in the policy, never by its URL, which may hold a secret.
 */
import type { PortcullisEvent } from "../keys/events";
import type { Policy } from "./schema";

export type Webhook = Policy["webhooks"][number];

export function receives(webhook: Webhook, event: Pick<PortcullisEvent, "type" | "workspaceId">): boolean {
  return (
    (webhook.events === undefined || webhook.events.includes(event.type)) &&
    (webhook.workspaceIds === undefined || webhook.workspaceIds.includes(event.workspaceId))
  );
}

/** Indexes of the webhooks that receive the event, in policy order. */
export function webhooksFor(
  webhooks: readonly Webhook[],
  event: Pick<PortcullisEvent, "type" | "workspaceId">,
): number[] {
  return webhooks.flatMap((webhook, index) => (receives(webhook, event) ? [index] : []));
}
