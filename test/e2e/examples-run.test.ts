/**
 * Every example runs as examples/README.md documents it, with one command: `npm run example --
 * NAME --once` checks the policy, starts `wrangler dev` with the echo origin and the secrets the
 * policy names, and runs examples/NAME.sh against it, which stops at the first call whose status
 * or X-Portcullis-Code is not the one the example shows.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "./wrangler-dev";

const EXAMPLES = readdirSync("examples")
  .filter((file) => file.endsWith(".json"))
  .map((file) => file.slice(0, -".json".length));

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
    },
    180_000,
  );
});
