/**
 * The admin API (SPEC 6), mounted at `P/admin`: routes declared with @hono/zod-openapi, so that
 * `v1/openapi.json` is generated from the schemas that validate input, and a reference page at
 * `docs`. Validation failures become 400 `bad_request` listing the fields.
 */

import { swaggerUI } from "@hono/swagger-ui";
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env";
import { validationHook } from "../http/validation-hook";
import type { CompiledPolicy } from "../policy/compiled";
import { Refusal } from "../refusals";
import { registerAuditRoute } from "./audit";
import { registerKeyRoutes } from "./keys";
import { registerRoleRoutes } from "./roles";
import { registerWorkspaceRoutes } from "./workspaces";

/** Largest admin request body, bytes. */
const ADMIN_BODY_LIMIT = 64 * 1024;

export function adminApp(compiled: CompiledPolicy): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: ADMIN_BODY_LIMIT,
      onError: () => {
        throw new Refusal(
          "payload_too_large",
          `Admin request bodies are limited to ${ADMIN_BODY_LIMIT / 1024} KiB.`,
        );
      },
    }),
  );

  registerWorkspaceRoutes(app, compiled);
  registerKeyRoutes(app, compiled);
  registerRoleRoutes(app, compiled);
  registerAuditRoute(app, compiled);

  app.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", {
    type: "http",
    scheme: "bearer",
    description: "The root `ADMIN_TOKEN`, or an admin key (`pc_admin_...`).",
  });
  app.doc31("/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Portcullis admin API",
      version: "1",
      description: "Workspaces, keys, roles and the audit log of a Portcullis deployment.",
    },
    servers: [{ url: `${compiled.policy.basePath}/admin` }],
  });
  app.get("/docs", swaggerUI({ url: `${compiled.policy.basePath}/admin/v1/openapi.json` }));
  return app;
}
