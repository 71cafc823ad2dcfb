/**
 * The Worker entry: the Hono app for the deployment's policy, and the Durable Object classes.
 */

import { appFor } from "./app";
import type { Env } from "./env";

export { KeyGate } from "./key-object/key-gate";
export { OwnerGate } from "./key-object/owner-gate";

export default {
  fetch(request, env, ctx) {
    return appFor(env.POLICY).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
