/**
 * The Worker entry: the Hono app for the deployment's policy, the Durable Object classes, the
 * events queue's consumer, and the scheduled sweep of events (docs/events.md) and of usage still
 * in D1 (docs/consistency.md#usage).
 */

import { env } from "cloudflare:workers";
import { appFor } from "./app";
import { logEvent } from "./log";
import { loadPolicy, type PolicyResult } from "./policy/load";
import { EventService } from "./services/events";
import { moveLegacyUsage } from "./services/usage-upgrade";
import { deliverBatch, retryDelay } from "./services/webhook-delivery";
import { readPolicyRolesFrom } from "./storage/roles";

export { KeyGate } from "./key-object/key-gate";
export { OwnerGate } from "./key-object/owner-gate";
export { UsageRollup } from "./key-object/usage-rollup";
export { WorkspaceContext } from "./key-object/workspace-context";

let loaded: { raw: unknown; result: PolicyResult } | null = null;

/** The policy for this `POLICY` value, validated once per value. */
function policyOf(raw: unknown): PolicyResult {
  const cached = loaded;
  if (cached && cached.raw === raw) return cached.result;
  const result = loadPolicy(raw);
  loaded = { raw, result };
  return result;
}

// A key's object is handed no policy: it resolves the roles of `policy.roles` through this, read
// from the deployment's POLICY like the Worker's (docs/policy.md#roles). An invalid policy has
// none, which grants nothing.
readPolicyRolesFrom(() => {
  const policy = policyOf(env.POLICY);
  return policy.ok ? policy.policy.roles : {};
});

function secretOf(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env.POLICY).fetch(request, env, ctx);
  },

  async queue(batch, env) {
    const policy = policyOf(env.POLICY);
    if (!policy.ok) {
      // Nothing is sent under an invalid policy: the webhooks it names cannot be trusted.
      logEvent("error", "policy_invalid", { field: policy.field, message: policy.message });
      for (const message of batch.messages) message.retry({ delaySeconds: retryDelay(message.attempts) });
      return;
    }
    await deliverBatch(batch, {
      db: env.DB,
      webhooks: policy.policy.webhooks,
      secret: (name) => secretOf(env, name),
      now: () => Date.now(),
    });
  },

  async scheduled(controller, env) {
    await new EventService(env.DB).sweep(env.EVENTS, controller.scheduledTime);
    await moveLegacyUsage(env);
  },
} satisfies ExportedHandler<Env>;
