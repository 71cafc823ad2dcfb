/**
 * Turns the `POLICY` variable into a validated `Policy`, or into the first problem found,
 * named by its field path so that an operator can fix it (`keyTypes.server.prefix: ...`).
 */
import { type Policy, PolicySchema } from "./schema";

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; field: string; message: string };

export function loadPolicy(raw: unknown): PolicyResult {
  if (raw === undefined || raw === null || raw === "") {
    return { ok: false, field: "POLICY", message: "the POLICY variable is not set" };
  }
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return { ok: false, field: "POLICY", message: `not valid JSON (${(error as Error).message})` };
    }
  }
  const parsed = PolicySchema.safeParse(value);
  if (parsed.success) return { ok: true, policy: parsed.data };
  const [issue] = parsed.error.issues;
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : "POLICY";
  return { ok: false, field, message: issue?.message ?? "invalid" };
}
