/**
 * The local tools check a policy as the Worker does and list every problem at once:
 * `npm run policy:check`, and `npm run dev`, which refuses to start on an invalid policy
 * (before it applies migrations or starts wrangler).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { devAddress, devPolicy } from "../../scripts/policy-source.ts";

/** A policy with two typos and a bad value: three problems. */
const TWO_TYPOS = {
  orign: "echo",
  keyTypes: { server: { prefix: "SK_live" } },
  routes: [{ path: "/api/*", methds: ["GET"] }],
};
const PROBLEM_LINES = ["orign: unknown field", "routes.0.methds: unknown field", "keyTypes.server.prefix: "];

function node(script: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function policyFile(policy: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "portcullis-policy-")), "policy.json");
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

describe("npm run policy:check", () => {
  it("lists every problem of a policy with its field path and fails", () => {
    const { status, output } = node("scripts/policy-check.mjs", [policyFile(TWO_TYPOS)]);
    expect(status).toBe(1);
    expect(output).toContain("3 problems");
    for (const line of PROBLEM_LINES) expect(output).toContain(line);
  });

  it("passes valid policies: an example and the demo policy of wrangler.toml", () => {
    const { status, output } = node("scripts/policy-check.mjs", ["examples/clausum.json", "wrangler.toml"]);
    expect(output).toContain("examples/clausum.json: valid");
    expect(output).toContain("[vars.POLICY] of wrangler.toml: valid");
    expect(status).toBe(0);
  });
});

describe("npm run dev", () => {
  it("refuses to start on an invalid policy, listing every problem", () => {
    const { status, output } = node("scripts/dev.mjs", [], { POLICY: JSON.stringify(TWO_TYPOS) });
    expect(status).toBe(1);
    for (const line of PROBLEM_LINES) expect(output).toContain(line);
    expect(output).not.toContain("Portcullis is starting");
  });

  it("checks the policy wrangler dev will run: --var first, then POLICY, then wrangler.toml", async () => {
    const fromArgs = await devPolicy(["--var", 'POLICY:{"a":1}'], { POLICY: '{"b":2}' });
    expect(fromArgs).toEqual({ label: "--var POLICY", raw: '{"a":1}' });
    expect((await devPolicy([], { POLICY: '{"b":2}' })).raw).toBe('{"b":2}');
    // `wrangler types` declares every wrangler.toml variable as always set in process.env; here it is not.
    const fromConfig = await devPolicy([], {} as NodeJS.ProcessEnv);
    expect(fromConfig.label).toBe("[vars.POLICY] of wrangler.toml");
    expect(fromConfig.raw).toMatchObject({ origin: "echo" });
  });

  it("announces the address wrangler dev will listen on", () => {
    expect(devAddress([])).toBe("http://localhost:8787");
    expect(devAddress(["--port", "8788"])).toBe("http://localhost:8788");
    expect(devAddress(["--port=9000", "--ip", "127.0.0.1"])).toBe("http://127.0.0.1:9000");
  });
});
