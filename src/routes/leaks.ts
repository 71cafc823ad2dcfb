/**
 * `POST P/v1/leaks/github` (docs/leaks.md): GitHub's secret scanning partner program reports
 * tokens it found in public places. Anyone can call this path, so the body is bounded and the
 * signature is checked on the raw bytes before the body is parsed or any storage is read.
 * Served only when the policy names the secret holding GitHub's public keys
 * (`leaks.githubKeysEnv`); otherwise the path is `not_found` like any unknown one.
 */

import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { AppEnv } from "../edge/app-env";
import { gateDirectory } from "../key-client/client";
import type { CompiledPolicy } from "../policy/compiled";
import { Refusal } from "../refusals";
import { githubPublicKeys, verifyGithubSignature } from "../services/github-signature";
import { LeakReportService } from "../services/leak-reports";
import { unconfirmed } from "../services/unconfirmed";

/** Largest report body, bytes. */
const LEAK_BODY_LIMIT = 1024 * 1024;

const LeakReportsBody = z.array(
  z.object({ token: z.string().min(1), type: z.string(), url: z.string(), source: z.string() }),
);

function parseReports(body: ArrayBuffer): z.infer<typeof LeakReportsBody> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw new Refusal("bad_request", "The body is not JSON.");
  }
  const parsed = LeakReportsBody.safeParse(json);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join(".") : "body",
      message: issue.message,
    }));
    throw new Refusal("bad_request", "The body is not an array of {token, type, url, source}.", { errors });
  }
  return parsed.data;
}

export function registerLeakRoute(app: OpenAPIHono<AppEnv>, compiled: CompiledPolicy): void {
  const leaks = compiled.policy.leaks;
  const keysEnv = leaks?.githubKeysEnv;
  if (!leaks || !keysEnv) return;

  app.post(
    "/v1/leaks/github",
    bodyLimit({
      maxSize: LEAK_BODY_LIMIT,
      onError: () => {
        throw new Refusal("payload_too_large", "Leak reports are limited to 1 MiB.");
      },
    }),
    async (c) => {
      const body = await c.req.arrayBuffer();
      const keys = githubPublicKeys((c.env as unknown as Record<string, unknown>)[keysEnv], keysEnv);
      const verified = await verifyGithubSignature(
        keys,
        c.req.header("Github-Public-Key-Identifier"),
        c.req.header("Github-Public-Key-Signature"),
        body,
      );
      if (!verified) throw new Refusal("invalid_signature");
      const reports = parseReports(body);
      const service = new LeakReportService(
        c.env.DB,
        compiled,
        gateDirectory(c.env.KEY_GATE),
        unconfirmed,
        leaks.action,
        c.env.EVENTS,
      );
      return c.json(await service.handle(reports, c.get("requestId")));
    },
  );
}
