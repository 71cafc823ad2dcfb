/**
 * The one OpenAPI 3.1 document of every surface (docs/admin-api.md): the admin routes, verify, self,
 * forward-auth and health, with paths from the base path `P`, which is its server.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../edge/app-env";
import { SURFACE_ROUTES } from "./surfaces";
import { verifyRoute } from "./verify";

const TAGS = [
  { name: "Workspaces", description: "Workspaces own keys, roles and an audit log." },
  { name: "Keys", description: "API keys: a key is shown once, in the response that creates or rotates it." },
  { name: "Roles", description: "Named sets of permissions that keys hold by reference." },
  {
    name: "Owners",
    description:
      "Keys with the same ownerId share the owner's limits and credits; an owner revoke revokes them all.",
  },
  { name: "Audit", description: "Every admin change, with its actor and the record before and after." },
  { name: "Events", description: "What happened to keys, and its delivery to each webhook." },
  { name: "Policy", description: "The policy's key types, plans, roles and permissions, for admin tools." },
  { name: "Verify", description: "A backend's question: may this key do this?" },
  { name: "Self", description: "A key holder's own key." },
  { name: "Forward-auth", description: "Authorization subrequests of nginx, Traefik, Caddy and Envoy." },
  { name: "Health", description: "For load balancers." },
];

export type OpenApiDocument = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

/** The document for a deployment whose base path is `basePath`; `admin` is the admin app. */
export function openApiDocument(admin: OpenAPIHono<AppEnv>, basePath: string): OpenApiDocument {
  // A documentation-only app: `route` copies the admin definitions under `/admin`; it is never served.
  const documented = new OpenAPIHono<AppEnv>();
  documented.route("/admin", admin);
  for (const route of [verifyRoute, ...SURFACE_ROUTES]) documented.openAPIRegistry.registerPath(route);
  documented.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", {
    type: "http",
    scheme: "bearer",
    description: "The root `ADMIN_TOKEN`, or an admin key (`pc_admin_...`).",
  });
  documented.openAPIRegistry.registerComponent("securitySchemes", "ApiKey", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key of a policy key type (or a session JWT), sent as the route's credential sources say: `Authorization: Bearer` by default, or `X-API-Key` or a query parameter.",
  });
  return documented.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Portcullis",
      version: "1",
      description:
        "An API-key authorizer on Cloudflare Workers. Every error is an RFC 9457 problem (`application/problem+json`) whose `code` is also sent as `X-Portcullis-Code`; every response carries `X-Request-Id`.",
      license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
    },
    servers: [{ url: basePath, description: "Portcullis' own surfaces, under the policy's `basePath`" }],
    tags: TAGS,
  });
}
