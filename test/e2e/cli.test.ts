/**
 * The `portcullis` CLI over real HTTP: the real bin run as a child process against the
 * end-to-end deployment, read as a person or a script would read it (stdout, stderr, exit code).
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { BIN, ROOT, run, runCli } from "./cli-run";
import { E2E_ROOT_TOKEN } from "./fixtures";
import { type DevServer, freePort, startWranglerDev } from "./wrangler-dev";

/** The end-to-end deployment's URL and root token, which `env` replaces when given. */
function e2eEnv(env: Record<string, string> = {}): Record<string, string> {
  return { PORTCULLIS_URL: inject("portcullisUrl"), PORTCULLIS_TOKEN: E2E_ROOT_TOKEN, ...env };
}

/** `portcullis ARGS` against the end-to-end deployment, or `env`'s. */
function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  return runCli(args, e2eEnv(options.env), options.input);
}

/** `portcullis owners COMMAND <owner> --workspace <workspaceId>`, with `more` arguments. */
function ownerArgs(workspaceId: string, owner: string) {
  return (command: string[], ...more: string[]) => [
    "owners",
    ...command,
    owner,
    "--workspace",
    workspaceId,
    ...more,
  ];
}

/** `portcullis keys create|import` of a `server` key in the workspace, with `more` arguments. */
function serverKey(command: "create" | "import", workspaceId: string, ...more: string[]): string[] {
  return ["keys", command, "--workspace", workspaceId, "--type", "server", ...more];
}

/** `portcullis ARGS --json`, which must exit 0 and print JSON. */
async function json(args: string[]) {
  const result = await cli([...args, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

async function newWorkspace(name: string): Promise<string> {
  return (await json(["workspaces", "create", name])).id;
}

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  await new Promise((closed) => server.close(closed));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("portcullis CLI", () => {
  it("runs as `npx portcullis` in the clone (npm exec resolves the project's own bin)", async () => {
    const result = await run("npx", ["--no-install", "portcullis", "--help"], e2eEnv());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Usage: portcullis");
    expect(result.stdout).toMatch(/Exit codes: 0 ok, 1 .*, 2 usage error, 3 server unreachable/);
  });

  it("creates a key and prints it once, lists it by filter, verifies it, revokes it and sees key_revoked", async () => {
    const workspaceId = await newWorkspace("cli");
    const created = await cli(serverKey("create", workspaceId, "--name", "cli-backend", "--owner", "u-cli"));
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.match(/^ {4}(sk_e2e_\S+)$/m)?.[1] ?? "";
    expect(key).not.toBe("");
    expect(created.stdout.split(key)).toHaveLength(2);
    expect(created.stdout).toMatch(/NEW KEY, shown only this once/);
    const id = created.stdout.match(/^id\s+(key_\S+)$/m)?.[1] ?? "";

    const listed = await cli(["keys", "list", "--workspace", workspaceId, "-q", "cli-", "--owner", "u-cli"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id}\\s+cli-backend\\s+server\\s+sk_e2e_\\S+\\s+u-cli\\s+active`, "m"),
    );
    expect(listed.stdout).not.toContain(key);
    const otherOwner = await cli(["keys", "list", "--workspace", workspaceId, "--owner", "someone-else"]);
    expect(otherOwner.stdout.trim()).toBe("(none)");

    const valid = await cli(["verify", key, "--permission", "products:read"]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(/^valid\s+yes$/m);
    expect(valid.stdout).toMatch(new RegExp(`^key\\s+${id}$`, "m"));

    const revoked = await cli(["keys", "revoke", id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/^status\s+revoked$/m);

    // The key from standard input, kept out of the command line.
    const refused = await cli(["verify", "-"], { input: `${key}\n` });
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stdout).toMatch(/^valid\s+NO$/m);
    expect(refused.stdout).toMatch(/^code\s+key_revoked$/m);
  });

  it("exits 1 on a problem of the server, with its title, code, detail and request id on stderr", async () => {
    const result = await cli(["keys", "get", "key_doesnotexist0000000"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: .+ \(not_found, HTTP 404\)$/m);
    expect(result.stderr).toMatch(/^ {2}request id: \S+$/m);

    const bad = await cli(["workspaces", "create", ""]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("(bad_request, HTTP 400)");
    expect(bad.stderr).toMatch(/^ {2}field name: /m);

    const wrongToken = await cli(["workspaces", "list"], { env: { PORTCULLIS_TOKEN: "not-the-token" } });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain("(invalid_key, HTTP 401)");
  });

  it("exits 2 on a usage error: an unknown flag, a bad value, a missing argument, no server", async () => {
    const unknownFlag = await cli(["keys", "list", "--bogus"]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("unknown option '--bogus'");
    for (const args of [
      ["keys", "usage", "key_x", "--granularity", "week"],
      ["keys", "list", "--limit", "0"],
      ["keys", "create", "--type", "server"],
      ["keys", "credits", "key_x", "--set", "1", "--increment", "2"],
      ["keys", "patch", "key_x"],
      ["keys", "patch", "key_x", "--unset", "constructor", "--name", "x"],
      ["keys"],
    ]) {
      expect((await cli(args)).code, args.join(" ")).toBe(2);
    }
    const noServer = await cli(["workspaces", "list"], { env: { PORTCULLIS_URL: "" } });
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain("PORTCULLIS_URL");
  });

  it("exits 3 when the server is unreachable", async () => {
    const result = await cli(["workspaces", "list", "--url", `http://127.0.0.1:${await closedPort()}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:\d+: /m);
  });

  it("prints the server's answer as JSON with --json", async () => {
    const workspaceId = await newWorkspace("cli-json");
    const created = await json(serverKey("create", workspaceId));
    expect(created).toMatchObject({ workspaceId, type: "server", key: expect.stringMatching(/^sk_e2e_/) });
    expect(await json(["keys", "get", created.id])).toMatchObject({
      id: created.id,
      counters: expect.any(Object),
    });
    expect((await json(["keys", "list", "--workspace", workspaceId])).items).toHaveLength(1);
    expect(await json(["workspaces", "get", workspaceId])).toMatchObject({
      id: workspaceId,
      name: "cli-json",
    });
    expect(await json(["verify", created.key])).toMatchObject({ valid: true, keyId: created.id });
    const audit = await json(["audit", "--workspace", workspaceId]);
    expect(audit.items.map((entry: { action: string }) => entry.action)).toEqual([
      "key.create",
      "workspace.create",
    ]);
  });

  it("draws a key's usage as a chart, with totals", async () => {
    const workspaceId = await newWorkspace("cli-usage");
    const { id, key } = await json(serverKey("create", workspaceId));
    for (const permission of ["products:read", "products:read", "nothing:granted"]) {
      expect((await cli(["verify", key, "--permission", permission])).code).toBe(0);
    }
    const result = await cli(["keys", "usage", id, "--granularity", "hour"]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("allowed requests per hour");
    expect(result.stdout).toContain("denied requests per hour");
    // The vertical axis of asciichart, labelled with counts.
    expect(lines.filter((line) => /^\s+\d+ [┼┤]/.test(line)).length).toBeGreaterThanOrEqual(3);
    expect(lines).toContain("allowed                     2");
    expect(lines).toContain("  insufficient_permissions  1");
  });

  it("changes credits, and clears a refill with --refill none", async () => {
    const workspaceId = await newWorkspace("cli-credits");
    const created = await json(serverKey("create", workspaceId, "--credits", "10", "--refill", "month:10"));
    expect(created.credits).toEqual({ remaining: 10, refill: { interval: "month", amount: 10 } });
    expect((await json(["keys", "credits", created.id, "--decrement", "3"])).credits.remaining).toBe(7);
    const cleared = await json(["keys", "credits", created.id, "--set", "5", "--refill", "none"]);
    expect(cleared.credits).toEqual({ remaining: 5, refill: null });
  });

  it("keeps roles: put, list, delete", async () => {
    const workspaceId = await newWorkspace("cli-roles");
    const put = await cli([
      "roles",
      "put",
      "reader",
      "--workspace",
      workspaceId,
      "--permission",
      "products:read",
    ]);
    expect(put.code, put.stderr).toBe(0);
    expect((await json(["roles", "list", "--workspace", workspaceId])).items).toMatchObject([
      { name: "reader", permissions: ["products:read"] },
    ]);
    expect((await cli(["roles", "delete", "reader", "--workspace", workspaceId])).code).toBe(0);
    expect((await json(["roles", "list", "--workspace", workspaceId])).items).toEqual([]);
  });

  it("follows the audit log: a change made while it runs is printed", async () => {
    // At least one entry, so that the first page is not empty whatever ran before.
    await newWorkspace("cli-follow-before");
    const child = spawn(process.execPath, [BIN, "audit", "--follow", "--interval", "0.2", "--limit", "1"], {
      cwd: ROOT,
      env: { ...process.env, ...e2eEnv() },
    });
    let output = "";
    const printed = (text: string) =>
      new Promise<void>((found) => {
        const check = () => {
          if (output.includes(text)) found();
        };
        child.stdout.on("data", (chunk) => {
          output += chunk;
          check();
        });
        check();
      });
    try {
      await printed("\n");
      const workspaceId = await newWorkspace("cli-follow");
      await printed(workspaceId);
      expect(output).toMatch(new RegExp(`workspace\\.create\\s+${workspaceId}\\s+root`));
    } finally {
      child.kill();
    }
  });

  it("prints a rotated key as revoked once its successor is revoked, in get and list", async () => {
    const workspaceId = await newWorkspace("cli-rotation");
    const old = await json(serverKey("create", workspaceId));
    const next = await json(["keys", "rotate", old.id, "--grace", "3600"]);
    expect((await cli(["keys", "get", old.id])).stdout).toMatch(/^status\s+active$/m);
    const revoked = await cli(["keys", "revoke", next.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const got = await cli(["keys", "get", old.id]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^status\s+revoked$/m);
    const listed = await cli(["keys", "list", "--workspace", workspaceId]);
    expect(listed.stdout).toMatch(new RegExp(`^${old.id}\\s.*\\srevoked\\s`, "m"));
    const refused = await cli(["verify", "-"], { input: `${old.key}\n` });
    expect(refused.stdout).toMatch(/^code\s+key_revoked$/m);
  });

  it("keeps owners: put limits and credits, get with live counters, list, revoke every key", async () => {
    const workspaceId = await newWorkspace("cli-owners");
    const owner = "auth0|cli-owner";
    const owned = ownerArgs(workspaceId, owner);
    const keys = [];
    for (let i = 0; i < 2; i += 1) {
      keys.push(await json(serverKey("create", workspaceId, "--owner", owner)));
    }
    const put = await cli(
      owned(["put"], "--limits", "minute=5", "--credits", "100", "--refill", "month:100"),
    );
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/^owner\s+auth0\|cli-owner$/m);
    expect(put.stdout).toMatch(/^counter minute: 5 of 5 left/m);
    const got = await json(owned(["get"]));
    expect(got).toMatchObject({
      ownerId: owner,
      workspaceId,
      limits: [{ window: "minute", limit: 5 }],
      credits: { remaining: 100, refill: { interval: "month", amount: 100 } },
      roles: [],
      rolesAsOf: null,
      keyCount: 2,
    });
    const listed = await cli(["owners", "list", "--workspace", workspaceId]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^auth0\|cli-owner\s+.*minute.*5.*\s2$/m);
    const revoked = await cli(owned(["revoke"]));
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.trim()).toBe(`revoked 2 keys of owner ${owner}`);
    const refused = await cli(["verify", "-"], { input: `${keys[0].key}\n` });
    expect(refused.stdout).toMatch(/^code\s+key_revoked$/m);
  });

  it("sets an owner's roles: set, get, refuse an unknown role, clear", async () => {
    const workspaceId = await newWorkspace("cli-owner-roles");
    const owner = "auth0|cli-member";
    const owned = ownerArgs(workspaceId, owner);
    const role = await cli(["roles", "put", "member", "--workspace", workspaceId, "--permission", "a:read"]);
    expect(role.code, role.stderr).toBe(0);
    const setRoles = await cli(owned(["roles", "set"], "--role", "member"));
    expect(setRoles.code, setRoles.stderr).toBe(0);
    expect(setRoles.stdout).toMatch(/^roles\s+member$/m);
    expect(await json(owned(["roles", "get"]))).toMatchObject({
      ownerId: owner,
      roles: ["member"],
    });
    const unknown = await cli(owned(["roles", "set"], "--role", "ghost"));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("bad_request");
    // Neither roles nor --none: a usage error, nothing sent.
    expect((await cli(owned(["roles", "set"]))).code).toBe(2);
    const cleared = await cli(owned(["roles", "set"], "--none"));
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toMatch(/^roles\s+-$/m);
  }, 180_000);

  /** A key of the e2e policy's `server` type, made elsewhere: `sk_e2e_<32 characters>_<crc32>`. */
  function keyMadeElsewhere(): string {
    const body = randomBytes(16).toString("hex");
    return `sk_e2e_${body}_${crc32(body).toString(16).padStart(8, "0")}`;
  }

  it("imports a key by its value from standard input, and by its hash", async () => {
    const workspaceId = await newWorkspace("cli-import");
    const byValue = keyMadeElsewhere();
    const imported = await cli(serverKey("import", workspaceId, "--key", "-", "--name", "legacy"), {
      input: `${byValue}\n`,
    });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^name\s+legacy$/m);
    expect(imported.stdout).not.toContain(byValue);
    expect((await json(["verify", byValue])).valid).toBe(true);

    const byHash = keyMadeElsewhere();
    const hash = createHash("sha256").update(byHash).digest("hex");
    const fromHash = await json(serverKey("import", workspaceId, "--hash", hash));
    expect(fromHash).toMatchObject({ workspaceId, type: "server" });
    expect((await json(["verify", byHash])).keyId).toBe(fromHash.id);

    const both = await cli(serverKey("import", workspaceId, "--hash", hash, "--key", byHash));
    expect(both.code).toBe(2);
    const again = await cli(serverKey("import", workspaceId, "--hash", hash));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("(conflict, HTTP 409)");
  });

  it("creates, patches and finds a workspace by its external id", async () => {
    const externalId = `org_${randomBytes(6).toString("hex")}`;
    const created = await json(["workspaces", "create", "cli-external", "--external-id", externalId]);
    expect(created.externalId).toBe(externalId);
    const found = await cli(["workspaces", "get", "--external-id", externalId]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(new RegExp(`^id\\s+${created.id}$`, "m"));
    const next = `${externalId}-next`;
    const patched = await json([
      "workspaces",
      "patch",
      created.id,
      "--external-id",
      next,
      "--name",
      "renamed",
    ]);
    expect(patched).toMatchObject({ id: created.id, name: "renamed", externalId: next });
    expect((await json(["workspaces", "get", "--external-id", next])).id).toBe(created.id);
    const gone = await cli(["workspaces", "get", "--external-id", externalId]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("no workspace has external id");
    const cleared = await json(["workspaces", "patch", created.id, "--unset", "external-id"]);
    expect(cleared.externalId).toBeNull();
    for (const args of [
      ["workspaces", "get"],
      ["workspaces", "get", created.id, "--external-id", next],
      ["workspaces", "patch", created.id],
    ]) {
      expect((await cli(args)).code, args.join(" ")).toBe(2);
    }
  });

  it.each([
    [],
    ["workspaces"],
    ["keys"],
    ["roles"],
    ["owners"],
    ["owners", "roles"],
    ["events"],
    ["audit"],
    ["verify"],
    ["keys", "usage"],
  ])("`portcullis %s --help` exits 0 with the usage", async (...group: string[]) => {
    const result = await cli([...group, "--help"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Usage: portcullis ${group.join(" ")}`.trim());
    expect(result.stdout).toContain("--json");
  });
});

describe("portcullis CLI against a policy's basePath, with a webhook", () => {
  const ROOT = "e2e-cli-base-path-root";
  const SECRET = `whsec_${Buffer.from("e2e-cli-webhook-signing-secret-3").toString("base64")}`;
  let deployment: DevServer;
  let receiver: Server;

  beforeAll(async () => {
    receiver = createHttpServer((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(204).end());
    });
    const port = await freePort();
    await new Promise<void>((listening) => receiver.listen(port, "127.0.0.1", listening));
    deployment = await startWranglerDev({
      vars: {
        POLICY: JSON.stringify({
          basePath: "/auth",
          origin: "echo",
          webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secretEnv: "WEBHOOK_SECRET" }],
          keyTypes: { server: { prefix: "sk_cbp" } },
          routes: [{ path: "/api/*" }],
        }),
        ADMIN_TOKEN: ROOT,
        WEBHOOK_SECRET: SECRET,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await deployment?.stop();
    await new Promise((closed) => receiver?.close(closed));
  });

  const env = () => ({ PORTCULLIS_URL: deployment.url, PORTCULLIS_TOKEN: ROOT });

  it("reaches it with --base-path or PORTCULLIS_BASE_PATH, and not without", async () => {
    const created = await cli(["workspaces", "create", "cli-base-path", "--base-path", "/auth", "--json"], {
      env: env(),
    });
    expect(created.code, created.stderr).toBe(0);
    const workspaceId = JSON.parse(created.stdout).id;
    const got = await cli(["workspaces", "get", workspaceId], {
      env: { ...env(), PORTCULLIS_BASE_PATH: "/auth" },
    });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^id\\s+${workspaceId}$`, "m"));
    // At the default base path, this deployment's protected API answers: not a workspace.
    const wrongPath = await cli(["workspaces", "get", workspaceId], { env: env() });
    expect(wrongPath.code).not.toBe(0);
    const badPath = await cli(["workspaces", "list", "--base-path", "auth/"], { env: env() });
    expect(badPath.code).toBe(2);
    expect(badPath.stderr).toContain("--base-path");
  });

  it("lists events with each webhook's delivery status", async () => {
    const base = { ...env(), PORTCULLIS_BASE_PATH: "/auth" };
    const workspace = await cli(["workspaces", "create", "cli-events", "--json"], { env: base });
    const workspaceId = JSON.parse(workspace.stdout).id;
    const key = await cli(serverKey("create", workspaceId, "--json"), {
      env: base,
    });
    const keyId = JSON.parse(key.stdout).id;
    const deadline = Date.now() + 60_000;
    let listed = await cli(["events", "list", "--workspace", workspaceId], { env: base });
    while (!/delivered/.test(listed.stdout) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      listed = await cli(["events", "list", "--workspace", workspaceId], { env: base });
    }
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^\\S+\\s+key\\.created\\s+evt_\\S+\\s+${keyId}\\s+#0 delivered \\(1 attempt\\)$`, "m"),
    );
    const page = JSON.parse(
      (
        await cli(["events", "list", "--workspace", workspaceId, "--type", "key.created", "--json"], {
          env: base,
        })
      ).stdout,
    );
    expect(page.items).toMatchObject([
      { type: "key.created", data: { keyId }, deliveries: [{ webhook: 0, status: "delivered" }] },
    ]);
  });
});
