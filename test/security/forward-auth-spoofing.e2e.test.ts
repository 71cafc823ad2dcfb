/**
 * Attack class: spoofed forward-auth headers, end to end. A client sends, through REAL nginx
 * and REAL Caddy configured exactly as docs/forward-auth.md says (test/e2e/peers/ reads that page), the
 * headers that another proxy's row would trust, claims of its address, scheme and host, and
 * its own `X-Portcullis-*` identity. Every test proves, at an origin that records what it
 * receives, that the request never arrived or arrived without the spoofed value.
 */
import { randomUUID } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newKey } from "../e2e/fixtures";
import { caddyConfig } from "../e2e/peers/caddy.conf";
import { nginxConfig } from "../e2e/peers/nginx.conf";
import { type RecordingOrigin, startRecordingOrigin } from "../e2e/peers/recording-origin";
import { type Peer, startPeer } from "../e2e/peers/start";

type ProxyName = "nginx" | "caddy";

let origin: RecordingOrigin;
const peers: Partial<Record<ProxyName, Peer>> = {};

beforeAll(async () => {
  const portcullis = inject("portcullisUrl");
  origin = await startRecordingOrigin();
  peers.nginx = await startPeer("nginx", (dir, port) => ({
    file: "nginx.conf",
    config: nginxConfig({ dir, port, portcullis, origin: origin.url }),
    command: "nginx",
    args: ["-c", `${dir}/nginx.conf`, "-p", dir, "-e", `${dir}/error.log`],
  }));
  peers.caddy = await startPeer("caddy", (_dir, port) => ({
    file: "Caddyfile",
    config: caddyConfig({ port, portcullis, origin: origin.url }),
    command: "caddy",
    args: ["run", "--config", "Caddyfile", "--adapter", "caddyfile"],
  }));
});

afterAll(async () => {
  await Promise.all(Object.values(peers).map((peer) => peer?.stop()));
  await origin?.close();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
}

/** One request with its target sent as written (fetch would resolve dot segments first). */
function send(
  proxy: ProxyName,
  target: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const base = new URL(peers[proxy]?.url ?? "");
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        path: target,
        method: init.method ?? "GET",
        headers: init.headers,
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

/** A path segment no other request uses, to find this test's requests at the origin. */
function marker(): string {
  return `m-${randomUUID()}`;
}

const IDENTITY_SPOOFS = {
  "X-Portcullis-Key-Id": "key_spoofed",
  "X-Portcullis-Workspace-Id": "ws_spoofed",
  "X-Portcullis-Key-Type": "admin",
  "X-Portcullis-Owner-Id": "owner_spoofed",
  "X-Portcullis-Permissions": "*",
  "X-Portcullis-Plan": "enterprise",
  "X-Portcullis-Subject": "user_spoofed",
  "X-Portcullis-Assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyX3Nwb29mZWQifQ.",
};

function expectDenied(answer: Answer, status: number, code: string, label: string) {
  expect(answer.status, label).toBe(status);
  expect(answer.headers["x-portcullis-code"], label).toBe(code);
}

const PROXIES: ProxyName[] = ["nginx", "caddy"];

describe("spoofed forward-auth headers through nginx and Caddy", () => {
  it("X-Forwarded-Uri: a client's URI claim gets no unauthenticated DELETE to the origin", async () => {
    const mark = marker();
    for (const proxy of PROXIES) {
      const answer = await send(proxy, `/api/admin/users/${mark}`, {
        method: "DELETE",
        headers: { "X-Forwarded-Uri": "/public/x" },
      });
      expectDenied(answer, 401, "missing_credential", proxy);
    }
    expect(origin.receivedWith(mark)).toEqual([]);
  });

  it("X-Forwarded-Method: a read-only key cannot write by claiming GET", async () => {
    const { key } = await newKey({ permissions: ["products:read"] });
    const mark = marker();
    for (const proxy of PROXIES) {
      const answer = await send(proxy, `/api/products?${mark}`, {
        method: "POST",
        headers: { "X-API-Key": key, "X-Forwarded-Method": "GET" },
      });
      expectDenied(answer, 403, "insufficient_permissions", proxy);
    }
    expect(origin.receivedWith(mark)).toEqual([]);
  });

  it("X-Forwarded-Method OPTIONS with Access-Control-Request-Method does not pass as a preflight", async () => {
    const mark = marker();
    for (const proxy of PROXIES) {
      const answer = await send(proxy, `/api/${mark}`, {
        method: "DELETE",
        headers: {
          "X-Forwarded-Method": "OPTIONS",
          "Access-Control-Request-Method": "DELETE",
          Origin: "https://evil.example",
        },
      });
      expectDenied(answer, 401, "missing_credential", proxy);
    }
    expect(origin.receivedWith(mark)).toEqual([]);
  });

  it("X-Original-URI and X-Original-Method change nothing", async () => {
    const { key } = await newKey({ permissions: ["products:read"] });
    const mark = marker();
    for (const proxy of PROXIES) {
      const unauthenticated = await send(proxy, `/api/${mark}`, {
        method: "DELETE",
        headers: { "X-Original-URI": "/public/x", "X-Original-Method": "GET" },
      });
      expectDenied(unauthenticated, 401, "missing_credential", proxy);
      const write = await send(proxy, `/api/products?${mark}`, {
        method: "POST",
        headers: { "X-API-Key": key, "X-Original-Method": "GET" },
      });
      expectDenied(write, 403, "insufficient_permissions", proxy);
    }
    expect(origin.receivedWith(mark)).toEqual([]);
  });

  it("X-Real-IP and X-Forwarded-For: a client cannot claim an address in a key's allowlist", async () => {
    const elsewhere = await newKey({ ipAllowlist: ["203.0.113.0/24"] });
    const here = await newKey({ ipAllowlist: ["127.0.0.1/32"] });
    for (const proxy of PROXIES) {
      const mark = marker();
      for (const claim of <Record<string, string>[]>[
        { "X-Real-IP": "203.0.113.5" },
        { "X-Forwarded-For": "203.0.113.5" },
        { "X-Real-IP": "203.0.113.5", "X-Forwarded-For": "198.51.100.1, 203.0.113.5" },
      ]) {
        const answer = await send(proxy, `/api/${mark}`, {
          headers: { "X-API-Key": elsewhere.key, ...claim },
        });
        expectDenied(answer, 403, "ip_not_allowed", `${proxy} ${JSON.stringify(claim)}`);
      }
      expect(origin.receivedWith(mark), proxy).toEqual([]);

      // The address the proxy saw is the one decided on, whatever the client claims.
      const allowed = await send(proxy, `/api/${mark}`, {
        headers: { "X-API-Key": here.key, "X-Real-IP": "203.0.113.5", "X-Forwarded-For": "203.0.113.5" },
      });
      expect(allowed.status, proxy).toBe(200);
      expect(origin.receivedWith(mark), proxy).toHaveLength(1);
    }
  });

  it("X-Forwarded-Host and X-Forwarded-Proto: a client cannot lift requireHttps over plain HTTP", async () => {
    const mark = marker();
    for (const proxy of PROXIES) {
      for (const claim of <Record<string, string>[]>[
        { "X-Forwarded-Proto": "https" },
        { "X-Forwarded-Host": "localhost" },
        { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "127.0.0.1" },
      ]) {
        const answer = await send(proxy, `/public/${mark}`, {
          headers: { Host: "api.example.com", ...claim },
        });
        expectDenied(answer, 403, "https_required", `${proxy} ${JSON.stringify(claim)}`);
      }
    }
    expect(origin.receivedWith(mark)).toEqual([]);
  });

  it("X-Portcullis-*: no identity header a client sends reaches the origin", async () => {
    const { key, id, workspaceId } = await newKey();
    for (const proxy of PROXIES) {
      const keyed = marker();
      const allowed = await send(proxy, `/api/${keyed}`, {
        headers: { ...IDENTITY_SPOOFS, "X-API-Key": key },
      });
      expect(allowed.status, proxy).toBe(200);
      const [request] = origin.receivedWith(keyed);
      expect(request?.headers, proxy).toMatchObject({
        "x-portcullis-key-id": id,
        "x-portcullis-workspace-id": workspaceId,
        "x-portcullis-key-type": "server",
        "x-portcullis-permissions": "products:read products:write",
      });
      for (const name of ["x-portcullis-owner-id", "x-portcullis-plan", "x-portcullis-subject"]) {
        expect(request?.headers[name] ?? "", `${proxy} ${name}`).toBe("");
      }
      const assertion = String(request?.headers["x-portcullis-assertion"]);
      const claims = JSON.parse(Buffer.from(assertion.split(".")[1] ?? "", "base64url").toString());
      expect(claims, proxy).toMatchObject({ iss: "portcullis", keyId: id });

      const open = marker();
      expect((await send(proxy, `/public/${open}`, { headers: IDENTITY_SPOOFS })).status, proxy).toBe(200);
      const [anonymous] = origin.receivedWith(open);
      expect(anonymous, proxy).toBeDefined();
      for (const name of Object.keys(IDENTITY_SPOOFS)) {
        expect(anonymous?.headers[name.toLowerCase()] ?? "", `${proxy} ${name}`).toBe("");
      }
    }
  });

  it("a raw URI that normalisation would change is refused before it reaches the origin", async () => {
    const mark = marker();
    for (const proxy of PROXIES) {
      for (const target of [
        `/api/admin/%2e%2e/%2e%2e/public/${mark}`,
        `/api/admin/%2E%2e/%2e%2E/public/${mark}`,
        `/api/admin/../../public/${mark}`,
        `/api/admin/%5c..%5c..%5cpublic/${mark}`,
        `//public/${mark}`,
      ]) {
        const answer = await send(proxy, target);
        expectDenied(answer, proxy === "nginx" ? 403 : 400, "bad_request", `${proxy} ${target}`);
        if (proxy === "nginx") expect(answer.headers["x-portcullis-status"], target).toBe("400");
      }
    }
    expect(origin.receivedWith(mark)).toEqual([]);
  });
});
