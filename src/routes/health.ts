/**
 * `GET P/health`: for load balancers, no auth. Reaching it means the policy is valid.
 */
import type { Handler } from "hono";
import type { AppEnv } from "../edge/app-env";

export const VERSION = "0.1.0";

export const health: Handler<AppEnv> = (c) => c.json({ status: "ok", version: VERSION });
