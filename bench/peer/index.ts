/**
 * Benchmark peer: the stack a Workers user would build without Portcullis. Hono's `bearerAuth`
 * looks the key's SHA-256 up in D1 on every request, and `hono-rate-limiter` counts per key in
 * its Cloudflare Durable Object store; allowed requests go to the same origin.
 */
import { DurableObjectRateLimiter, DurableObjectStore } from "@hono-rate-limiter/cloudflare";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { rateLimiter } from "hono-rate-limiter";

interface Env {
  DB: D1Database;
  LIMITER: DurableObjectNamespace<DurableObjectRateLimiter>;
  ORIGIN: string;
  /** Requests per minute per key. */
  LIMIT: string;
}

async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

type PeerEnv = { Bindings: Env; Variables: { token: string } };

const app = new Hono<PeerEnv>();

app.use(
  bearerAuth<PeerEnv>({
    verifyToken: async (token, c) => {
      const row = await c.env.DB.prepare("SELECT 1 FROM api_keys WHERE hash = ?1")
        .bind(await sha256(token))
        .first();
      if (row) c.set("token", token);
      return row !== null;
    },
  }),
);

app.use((c, next) =>
  rateLimiter<PeerEnv>({
    windowMs: 60_000,
    limit: Number(c.env.LIMIT),
    keyGenerator: (ctx) => ctx.get("token"),
    store: new DurableObjectStore({ namespace: c.env.LIMITER }),
  })(c, next),
);

app.all("*", (c) => {
  const url = new URL(c.req.url);
  return fetch(`${c.env.ORIGIN}${url.pathname}${url.search}`, c.req.raw);
});

export { DurableObjectRateLimiter };
export default app;
