/**
 * The Worker's `Env`: the bindings `wrangler types` generates from wrangler.toml into
 * worker-configuration.d.ts (`npm run cf-typegen`, checked current by a test), with what the
 * generator cannot know: the secrets (`wrangler secret put`), the variables passed with `--var`,
 * the policy as the Worker receives it (a TOML table or a JSON string, validated before use),
 * and the bindings a deployment may leave out.
 */
interface Env extends Omit<WranglerBindings, "POLICY" | "EVENTS" | "ABUSE_LIMITER"> {
  /** The policy: a TOML table from wrangler.toml or a JSON string (`--var POLICY:'{...}'`). */
  POLICY?: unknown;
  /** Events (docs/events.md), produced here and consumed by this Worker's `queue` handler. */
  EVENTS?: Queue<import("./src/keys/events").PortcullisEvent>;
  /** Counts misses (well-formed unknown keys) per client IP: the abuse limit. Optional. */
  ABUSE_LIMITER?: RateLimit;
  /** The Analytics Engine dataset of decisions (docs/analytics.md). Optional: absent, none is written. */
  ANALYTICS?: AnalyticsEngineDataset;
  /** Root admin credential; root access is off when unset. */
  ADMIN_TOKEN?: string;
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
  /**
   * Benchmark only (`node bench/cold.ts`): ms added before and after each query of a D1 session
   * (a read replica near the location). Unset: `BENCH_D1_DELAY_MS`, as without replication,
   * where a session reads the primary.
   */
  BENCH_D1_REPLICA_DELAY_MS?: string;
}
