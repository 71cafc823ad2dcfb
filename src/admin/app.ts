/**
 * The admin API (docs/admin-api.md), mounted at `P/admin`: routes declared with @hono/zod-openapi, so that
 * `v1/openapi.json`, the document of every surface, is generated from the schemas that validate
 * input, and a reference page at `docs`. Validation failures become 400 `bad_request` listing
 * the fields.
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../edge/app-env";
import { validationHook } from "../http/validation-hook";
import type { CompiledPolicy } from "../policy/compiled";
import { Refusal } from "../refusals";
import { registerAuditRoute } from "./audit";
import { type OpenApiDocument, openApiDocument } from "./document";
import { registerEventRoute } from "./events";
import { registerKeyRoutes } from "./keys";
import { registerOwnerRoutes } from "./owners";
import { registerPolicyRoute } from "./policy";
import { registerReferencePage } from "./reference";
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
  registerOwnerRoutes(app, compiled);
  registerAuditRoute(app, compiled);
  registerEventRoute(app, compiled);
  registerPolicyRoute(app, compiled);

  const adminPath = `${compiled.policy.basePath}/admin`;
  // Built on the first request that asks for it, once per isolate.
  let document: OpenApiDocument | null = null;
  app.get("/v1/openapi.json", (c) => {
    document ??= openApiDocument(app, compiled.policy.basePath);
    return c.json(document);
  });
  registerReferencePage(app, adminPath);
  return app;
}
