/**
 * Turns the `POLICY` variable into a validated `Policy`, or into the list of its problems, each
 * named by its field path so that an operator can fix them all at once
 * (`keyTypes.server.prefix: ...`). The Worker, `npm run policy:check` and `npm run dev` report
 * the same list.
 */
import type { z } from "zod";
import { type Policy, PolicySchema } from "./schema.ts";

/** One problem of a policy; `field` is `POLICY` when it concerns the whole value. */
export interface PolicyProblem {
  field: string;
  message: string;
}

/** A failure names its first problem in `field` and `message`, and lists all in `problems`. */
export type PolicyResult =
  | { ok: true; policy: Policy }
  | { ok: false; field: string; message: string; problems: PolicyProblem[] };

/**
 * The problems of one zod issue. A misspelt field is named by its own path; a union that no
 * alternative fits names what each alternative expects (zod says only "Invalid input").
 */
function problemsOf(issue: z.core.$ZodIssue): PolicyProblem[] {
  const field = (path: readonly PropertyKey[]) => (path.length > 0 ? path.join(".") : "POLICY");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ field: field([...issue.path, key]), message: "unknown field" }));
  }
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const alternatives = issue.errors.map((alternative) =>
      alternative.map((inner) => inner.message).join(", "),
    );
    return [{ field: field(issue.path), message: `fits none of: ${alternatives.join("; ")}` }];
  }
  return [{ field: field(issue.path), message: issue.message }];
}

function parse(raw: unknown): { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] } {
  if (raw === undefined || raw === null || raw === "") {
    return { ok: false, problems: [{ field: "POLICY", message: "the POLICY variable is not set" }] };
  }
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return {
        ok: false,
        problems: [{ field: "POLICY", message: `not valid JSON (${(error as Error).message})` }],
      };
    }
  }
  const parsed = PolicySchema.safeParse(value);
  if (parsed.success) return { ok: true, policy: parsed.data };
  return { ok: false, problems: parsed.error.issues.flatMap(problemsOf) };
}

/** Every problem of the policy; none when it is valid. */
export function policyProblems(raw: unknown): PolicyProblem[] {
  const parsed = parse(raw);
  return parsed.ok ? [] : parsed.problems;
}

export function loadPolicy(raw: unknown): PolicyResult {
  const parsed = parse(raw);
  if (parsed.ok) return parsed;
  const [first = { field: "POLICY", message: "invalid" }] = parsed.problems;
  return { ok: false, field: first.field, message: first.message, problems: parsed.problems };
}
