/**
 * Every example runs as examples/README.md documents it, with one command: `npm run example --
 * NAME --once` checks the policy, starts `wrangler dev` with the echo origin and the secrets the
 * policy names, and runs examples/NAME.sh against it, which stops at the first call whose status
 * or X-Portcullis-Code is not the one the example shows.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "./wrangler-dev";

const EXAMPLES = readdirSync("examples")
  .filter((file) => file.endsWith(".json"))
  .map((file) => file.slice(0, -".json".length));

/**
 * Lines each example must print for its dashboard, through the portal (docs/portal.md): the
 * members at work, as examples/README.md describes them.
 */
const PORTAL_LINES: Record<string, RegExp[]> = {
  clausum: [
    /^ {2}201 - +a dashboard admin creates a checkout key/,
    /^ {2}403 insufficient_permissions +the same member creates a server key$/,
    /^ {2}401 invalid_token +a workspace named in user_metadata$/,
    /^ {2}401 key_revoked +the checkout key right after \(revocation is immediate\)$/,
  ],
  closient: [
    /^ {2}201 - +the Owner creates a business key$/,
    /^ {2}403 insufficient_permissions +an Editor creates a business key$/,
    /^ {2}200 - +her csu key writes the catalogue$/,
    /^ {2}403 insufficient_permissions +the same write once Closient demotes her to Billing$/,
  ],
  clodura: [
    /^ {2}201 - +Generate Key in the developer dashboard$/,
    /^ {2}409 limit_reached +Generate Key again/,
    /^ {2}200 - +the dashboard shows the key's daily quota$/,
    /^ +remaining today: 1999 of 2000$/,
  ],
  clarky: [
    /^ {2}403 plan_required +a Starter workspace creates an API key$/,
    /^ {2}201 - +a Pro workspace creates a read-only key$/,
    /^ {2}403 insufficient_permissions +the read-only key creates a contact$/,
  ],
  "ai-gateway": [
    /^ {2}201 - +the profile page creates a key \(every service\)$/,
    /^ {2}404 not_found +another user's profile page asks for the first key$/,
    /^ {2}401 key_revoked +the revoked key calls a model$/,
  ],
};

/** How many calls the script checks (`check` and `portal` lines), each of which prints a line. */
function checkedCalls(name: string): number {
  return readFileSync(`examples/${name}.sh`, "utf8")
    .split("\n")
    .filter((line) => /^\s*(check|portal) "/.test(line)).length;
}

/** Runs the example's one command to its end: exit status and everything it printed. */
async function runExample(name: string): Promise<{ status: number | null; output: string }> {
  const persist = mkdtempSync(join(tmpdir(), `portcullis-example-${name}-`));
  const [port, inspector] = [await freePort(), await freePort()];
  const args = ["scripts/example.mjs", name, "--once", "--persist-to", persist, "--ip", "127.0.0.1"];
  const child = spawn(
    process.execPath,
    [...args, "--port", String(port), "--inspector-port", String(inspector)],
    {
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const status = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  rmSync(persist, { recursive: true, force: true });
  return { status, output };
}

describe("examples", () => {
  it("has a script for every example policy", () => {
    expect(EXAMPLES).toEqual(["ai-gateway", "clarky", "clausum", "clodura", "closient"]);
    expect(Object.keys(PORTAL_LINES).sort()).toEqual(EXAMPLES);
    const scripts = readdirSync("examples").filter((file) => file.endsWith(".sh"));
    for (const name of EXAMPLES) expect(scripts).toContain(`${name}.sh`);
  });

  it.each(EXAMPLES)(
    "npm run example -- %s shows allowed and denied requests, each as documented",
    async (name) => {
      const { status, output } = await runExample(name);
      expect(status, output).toBe(0);
      // The script's lines: status, code (`-` when allowed), what was tried.
      const lines = output.split("\n").filter((line) => /^ {2}\d{3} \S+ +\S/.test(line));
      expect(
        lines.some((line) => /^ {2}200 - /.test(line)),
        output,
      ).toBe(true);
      expect(
        lines.some((line) => /^ {2}4\d\d [a-z_]+ /.test(line)),
        output,
      ).toBe(true);
      // Every call the script checks printed its line, its dashboard's among them.
      expect(lines, output).toHaveLength(checkedCalls(name));
      const printed = output.split("\n");
      for (const line of PORTAL_LINES[name] ?? []) {
        expect(
          printed.some((printedLine) => line.test(printedLine)),
          `${line}\n${output}`,
        ).toBe(true);
      }
    },
    180_000,
  );
});
