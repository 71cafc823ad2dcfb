/**
 * The Worker's bindings (wrangler.toml) and the Hono environment every route shares.
 */
import type { Access } from "./edge/access";
import type { RequestFacts } from "./edge/request-facts";
import type { KeyGate } from "./key-object/key-gate";
import type { OwnerGate } from "./key-object/owner-gate";
import type { PortcullisEvent } from "./keys/events";
import type { Policy } from "./policy/schema";
import type { AdminContext } from "./services/admin-context";

export interface Env {
  /** Key records (hashed), workspaces and the audit log. */
  DB: D1Database;
  /** One object per key, addressed by the key's id: its state and counters. */
  KEY_GATE: DurableObjectNamespace<KeyGate>;
  /** One object per owner (workspace and owner id): the owner's shared limits and credits. */
  OWNER_GATE: DurableObjectNamespace<OwnerGate>;
  /** Events (docs/events.md), produced here and consumed by this Worker's `queue` handler. */
  EVENTS?: Queue<PortcullisEvent>;
  /** Counts misses (well-formed unknown keys) per client IP: the abuse limit. Optional. */
  ABUSE_LIMITER?: RateLimit;
  /** The policy: a TOML table from wrangler.toml or a JSON string (`--var POLICY:'{...}'`). */
  POLICY?: unknown;
  /** Root admin credential; root access is off when unset. */
  ADMIN_TOKEN?: string;
  /** Static assets (wrangler `[assets]`, `.assets/`): the reference page's and the console's files. */
  ASSETS: Fetcher;
  /** HS256 secret for the `X-Portcullis-Assertion` JWT sent to the origin. */
  ORIGIN_SIGNING_SECRET?: string;
  /**
   * Benchmark only (`npm run bench`, the "far object" rows): ms added before and after each
   * decision asked of a key's object, to model an object in another location. Unset: none.
   */
  BENCH_OBJECT_DELAY_MS?: string;
  /**
   * Benchmark only (`node bench/cold.ts`): ms added before and after each D1 query of the verify
   * path, to model a primary database far from the location. Unset: none.
   */
  BENCH_D1_DELAY_MS?: string;
}

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
  /** Who may pass, set by `keyAuth` on the proxy, forward-auth and self surfaces. */
  access: Access;
  /** The request `keyAuth` decided on, as read from the request or a forward-auth report. */
  facts: RequestFacts;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
