/**
 * The Hono environment every route shares: the Worker's bindings (the global `Env`, generated
 * from wrangler.toml by `wrangler types` into worker-configuration.d.ts) and the per-request
 * values that middleware sets.
 */

import type { Policy } from "../policy/schema";
import type { AdminContext } from "../services/admin-context";
import type { PortalMember } from "../services/portal-session";
import type { Access } from "./access";
import type { RequestFacts } from "./request-facts";

/** Per-request values set by middleware and read by routes and the request log. */
export interface AppVariables {
  requestId: string;
  policy: Policy;
  /** The decision code for the request log (`valid` or an error code). */
  decision?: string;
  /** The id of the key that made the request, for the request log. */
  keyId?: string;
  /** The matched route pattern, for the request log. */
  route?: string;
  /** The authenticated admin caller, set by the admin auth middleware. */
  admin: AdminContext;
  /** The portal member calling, set by the portal's authentication (docs/portal.md). */
  portal: PortalMember;
  /** Who may pass, set by `keyAuth` on the proxy, forward-auth and self surfaces. */
  access: Access;
  /** The request `keyAuth` decided on, as read from the request or a forward-auth report. */
  facts: RequestFacts;
  /** Until the origin's answer to a forwarded request, ms (for the analytics point). */
  originMs?: number;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
