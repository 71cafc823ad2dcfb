/**
 * Admin route for events (docs/events.md): recent events with their delivery to each webhook.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../edge/app-env";
import type { CompiledPolicy } from "../policy/compiled";
import { EventService } from "../services/events";
import { adminAuth } from "./auth";
import { EXAMPLES } from "./examples";
import { jsonResponse, problems, SECURITY } from "./openapi";
import { EventListSchema, EventQuery } from "./schemas";
import { eventView } from "./views";

export function registerEventRoute(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/events",
      operationId: "listEvents",
      tags: ["Events"],
      summary: "Recent events with their delivery status, newest first",
      description:
        "Events of the last 30 days. Each webhook that receives an event is named by its index in the policy's `webhooks`, never by its URL. Needs the admin permission `audit:read`.",
      security: SECURITY,
      middleware: [adminAuth(compiled, "audit:read")] as const,
      request: { query: EventQuery },
      responses: {
        200: jsonResponse(EventListSchema, "A page of events", EXAMPLES.eventList),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const page = await new EventService(c.env.DB).list(
        c.get("admin"),
        compiled.policy.webhooks,
        c.req.valid("query"),
        Date.now(),
      );
      return c.json({ items: page.items.map(eventView), cursor: page.cursor }, 200);
    },
  );
}
