/**
 * The app's one error handler: every failure leaves as problem+json through `renderProblem`.
 * Hono's own exceptions (malformed JSON, body limit, content type) are mapped to refusal codes;
 * anything unexpected is a 500 `internal` whose detail reveals nothing.
 */
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../edge/app-env";
import { logEvent } from "../log";
import { Refusal } from "../refusals";
import { renderProblem } from "./problem";

export function toRefusal(error: Error): Refusal {
  if (error instanceof Refusal) return error;

  if (error instanceof HTTPException) {
    if (error.status === 413) return new Refusal("payload_too_large", "The request body is too large.");
    if (error.status === 415) {
      return new Refusal("bad_request", "The body must be JSON, sent with Content-Type: application/json.", {
        errors: [{ field: "body", message: "expected Content-Type: application/json" }],
      });
    }
    if (error.status === 400) {
      return new Refusal("bad_request", error.message || "The request is invalid.", {
        errors: [{ field: "body", message: error.message || "invalid" }],
      });
    }
  }
  logEvent("error", "unhandled_error", { error: String(error) });
  return new Refusal("internal", "An internal error occurred.");
}

export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const apiError = toRefusal(error);
  c.set("decision", apiError.code);
  return renderProblem(apiError, c.get("requestId"));
};
