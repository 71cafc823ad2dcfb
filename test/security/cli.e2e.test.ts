/**
 * Attack class: a hostile or impostor server behind `--url`, and secrets on the command line.
 * The real `portcullis` bin runs as a child process against a small Node HTTP server that
 * answers what an attacker chooses: a redirect to an answer that looks like success, a 2xx of
 * the wrong shape, terminal escape sequences in its strings. The CLI must never print success
 * it did not get, never send the credential on, never let the server drive the terminal, and
 * never print the token or a URL's password (docs/cli.md).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Run, runCli } from "../e2e/cli-run";

const TOKEN = "pc_admin_hostile-test-credential-0123456789";

/** Exit codes of docs/cli.md. */
const USAGE = 2;
const BAD_ANSWER = 4;

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let serverUrl: string;
let handler: Handler;
let received: Received[];

beforeAll(async () => {
  server = createServer((request, response) => {
    received.push({
      method: request.method ?? "",
      url: request.url ?? "",
      authorization: request.headers.authorization,
    });
    request.resume();
    request.on("end", () => handler(request, response));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  serverUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

beforeEach(() => {
  received = [];
  handler = (_request, response) => json(response, 500, {});
});

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/** `portcullis ARGS` against the hostile server (or `env`'s URL and token), to its end. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCli(args, { PORTCULLIS_URL: serverUrl, PORTCULLIS_TOKEN: TOKEN, ...env });
}

/** A stack trace's frame line, as Node prints an uncaught error. */
const STACK_FRAME = /^\s+at /m;
/** What must never reach a terminal from a server: C0 but newline and tab, DEL, C1. */
const TERMINAL_CONTROL = /(?![\n\t])\p{Cc}/u;

const NOW = "2026-11-23T12:00:00Z";

/** A key record as Portcullis answers it, not revoked. */
function keyRecord(overrides: Record<string, unknown> = {}) {
  return {
    id: "key_hostile000000000000",
    workspaceId: "ws_hostile",
    type: "server",
    name: "backend",
    start: "sk_live_abc",
    ownerId: null,
    permissions: ["products:read"],
    roles: [],
    meta: {},
    plan: null,
    limits: {},
    credits: null,
    ipAllowlist: [],
    enabled: true,
    expiresAt: null,
    revokedAt: null,
    createdAt: NOW,
    updatedAt: NOW,
    lastUsedAt: null,
    rotatedFrom: null,
    createdBy: { type: "root" },
    ...overrides,
  };
}

describe("a redirect is refused", () => {
  it("a 302 to an answer of {items: []} revokes nothing, prints no success and sends the credential nowhere", async () => {
    handler = (request, response) => {
      if (request.url?.endsWith("/revoke")) {
        response.writeHead(302, { location: "/elsewhere" });
        response.end();
      } else json(response, 200, { items: [] });
    };
    const result = await cli(["keys", "revoke", "key_hostile000000000000"]);
    expect(result.code).toBe(BAD_ANSWER);
    expect(result.stdout).toBe("");
    expect(result.stdout + result.stderr).not.toContain("revoked");
    expect(result.stderr).toMatch(/HTTP 302/);
    expect(result.stderr).toMatch(/redirects are refused/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr).not.toContain(TOKEN);
    // The redirect's target was never asked, with the credential or without it.
    expect(received.map((request) => request.url)).toEqual([
      "/_portcullis/admin/v1/keys/key_hostile000000000000/revoke",
    ]);
  });

  it("a redirect to another origin is not followed either", async () => {
    const target = createServer((request, response) => {
      received.push({
        method: "TARGET",
        url: request.url ?? "",
        authorization: request.headers.authorization,
      });
      json(response, 200, keyRecord({ revokedAt: NOW }));
    });
    await new Promise<void>((listening) => target.listen(0, "127.0.0.1", listening));
    const address = target.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    handler = (_request, response) => {
      response.writeHead(307, {
        location: `http://127.0.0.1:${address.port}/_portcullis/admin/v1/keys/x/revoke`,
      });
      response.end();
    };
    try {
      const result = await cli(["keys", "revoke", "key_hostile000000000000"]);
      expect(result.code).toBe(BAD_ANSWER);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/HTTP 307/);
      expect(received.filter((request) => request.method === "TARGET")).toEqual([]);
    } finally {
      await new Promise((closed) => target.close(closed));
    }
  });
});

describe("a 2xx answer of the wrong shape is an error, for every command", () => {
  const COMMANDS = [
    ["workspaces", "list"],
    ["workspaces", "create", "acme"],
    ["workspaces", "get", "ws_x"],
    ["workspaces", "get", "--external-id", "org_x"],
    ["workspaces", "create", "acme", "--external-id", "org_x"],
    ["workspaces", "patch", "ws_x", "--external-id", "org_x"],
    ["workspaces", "usage", "ws_x"],
    ["keys", "create", "--workspace", "ws_x", "--type", "server"],
    ["keys", "list"],
    ["keys", "get", "key_x"],
    ["keys", "patch", "key_x", "--name", "n"],
    ["keys", "revoke", "key_x"],
    ["keys", "rotate", "key_x"],
    ["keys", "credits", "key_x", "--set", "1"],
    ["keys", "revoke-by-value", "sk_live_x"],
    ["keys", "usage", "key_x"],
    ["keys", "delete", "key_x"],
    ["keys", "import", "--workspace", "ws_x", "--type", "server", "--hash", "ab".repeat(32)],
    ["keys", "import", "--workspace", "ws_x", "--type", "server", "--key", "sk_live_x"],
    ["owners", "get", "user_x"],
    ["owners", "put", "user_x", "--limits", "minute=5"],
    ["owners", "list"],
    ["owners", "revoke", "user_x"],
    ["events", "list"],
    ["roles", "list"],
    ["roles", "put", "reader", "--workspace", "ws_x", "--permission", "a:b"],
    ["roles", "delete", "reader"],
    ["audit"],
    ["verify", "sk_live_x"],
  ];

  it.each(COMMANDS.map((args) => [args.join(" "), args] as const))(
    'portcullis %s: a 200 of {items: "x"} prints no success',
    async (_command, args) => {
      handler = (_request, response) => json(response, 200, { items: "x" });
      for (const json of [false, true]) {
        const result = await cli(json ? [...args, "--json"] : args);
        expect(result.code, result.stderr).toBe(BAD_ANSWER);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/^error: the server's answer is not what Portcullis answers/m);
        expect(result.stderr).not.toMatch(STACK_FRAME);
      }
    },
  );

  it("a 200 whose body is not JSON is an error, not a crash", async () => {
    handler = (_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<html>welcome</html>");
    };
    const result = await cli(["keys", "list"]);
    expect(result.code).toBe(BAD_ANSWER);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/HTTP 200.*not JSON/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("a problem of the wrong shape is reported without a crash", async () => {
    handler = (_request, response) =>
      json(response, 400, { status: 400, code: "bad_request", title: "x", errors: 5 });
    const result = await cli(["keys", "get", "key_x"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*HTTP 400/m);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });
});

describe("server strings cannot drive the terminal", () => {
  const HOSTILE = "\x1b]0;pwned\x07evil\x1b[31mred\x9b2J\x7f";

  it("strips escape sequences from a key's fields, in the record and the table", async () => {
    handler = (request, response) => {
      const key = keyRecord({ name: HOSTILE, ownerId: `owner${HOSTILE}`, meta: { team: HOSTILE } });
      if (request.url?.split("?")[0] === "/_portcullis/admin/v1/keys")
        json(response, 200, { items: [key], cursor: HOSTILE });
      else json(response, 200, { ...key, counters: { plan: null, limits: [] } });
    };
    const got = await cli(["keys", "get", "key_x"]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(got.stdout).not.toContain("pwned");
    expect(got.stdout).toMatch(/^name\s+evilred$/m);
    const listed = await cli(["keys", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(listed.stdout).toContain("evilred");
    expect(listed.stdout).toMatch(/^more: repeat with --cursor evilred$/m);
  });

  it("strips them from a problem's title, detail, fields and request id", async () => {
    handler = (_request, response) =>
      json(response, 404, {
        type: "about:blank",
        title: `Not found${HOSTILE}`,
        status: 404,
        code: "not_found",
        detail: `No such key.${HOSTILE}\nstatus  revoked`,
        requestId: `req${HOSTILE}`,
        errors: [{ field: `name${HOSTILE}`, message: HOSTILE }],
      });
    const result = await cli(["keys", "get", "key_x"]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(TERMINAL_CONTROL);
    expect(result.stderr).not.toContain("pwned");
    expect(result.stderr).toContain("No such key.evilred status  revoked");
    // A server's newline cannot start a line of its own.
    expect(result.stderr).not.toMatch(/^status/m);
  });

  it("keeps --json valid JSON, the server's strings escaped and unchanged", async () => {
    handler = (_request, response) =>
      json(response, 200, { ...keyRecord({ name: HOSTILE }), counters: { plan: null, limits: [] } });
    const result = await cli(["keys", "get", "key_x", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(JSON.parse(result.stdout).name).toBe(HOSTILE);
  });
});

describe("secrets on the command line are never printed", () => {
  it.each([
    ["a newline", "pc_admin_secret\nline-two-0123"],
    ["a character beyond Latin-1", "pc_admin_secret€-0123"],
    ["a space", "pc_admin_secret with-space-0123"],
  ])("a token with %s is a usage error that does not show it", async (_what, token) => {
    for (const [args, env] of [
      [["workspaces", "list", "--token", token], {}],
      [["workspaces", "list"], { PORTCULLIS_TOKEN: token }],
    ] as const) {
      const result = await cli([...args], env);
      expect(result.code).toBe(USAGE);
      expect(result.stderr).toMatch(/^error: the token .*malformed/m);
      for (const part of token.split(/[\n ]/)) expect(result.stdout + result.stderr).not.toContain(part);
      expect(result.stderr).not.toMatch(STACK_FRAME);
    }
    expect(received).toEqual([]);
  });

  it.each([
    ["a password", (url: string) => url.replace("http://", "http://admin:hunter2-password@")],
    ["a user name", (url: string) => url.replace("http://", "http://hunter2-password@")],
    ["a password and a bad port", () => "http://admin:hunter2-password@127.0.0.1:99999"],
    ["a password with a slash", () => "http://admin:hunter2/password@127.0.0.1:1"],
  ])("a URL with %s is a usage error that does not show it", async (_what, urlOf) => {
    const url = urlOf(serverUrl);
    for (const [args, env] of [
      [["workspaces", "list", "--url", url], {}],
      [["workspaces", "list"], { PORTCULLIS_URL: url }],
    ] as const) {
      const result = await cli([...args], env);
      expect(result.code, result.stderr).toBe(USAGE);
      expect(result.stdout + result.stderr).not.toContain("hunter2");
      expect(result.stderr).not.toMatch(STACK_FRAME);
    }
    expect(received).toEqual([]);
  });
});
