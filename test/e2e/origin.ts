/**
 * A real origin server (node:http) for end-to-end tests and the benchmark. Every answer
 * describes the request it received; a few paths behave specially:
 *
 *   /slow?ms=N        answers after N ms (origin timeouts)
 *   /drip?ms=N        answers at once, then sends the last byte of its body after N ms
 *   /download?bytes=N streams N bytes
 *   /.well-known/jwks.json, POST /__sign, POST /__rotate   the session issuer (jwks-issuer.ts)
 *   anything else     200 JSON {method, path, query, headers, bodyBytes, bodySha256, assertion}
 *
 * `assertion` is what the origin makes of `X-Portcullis-Assertion`: the claims when the JWT
 * verifies with the shared secret, `{invalid: reason}` when it does not, null when absent.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verify } from "hono/jwt";
import { JwksIssuer } from "./jwks-issuer.ts";

export interface Origin {
  url: string;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 120);

function download(response: ServerResponse, bytes: number): void {
  response.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes) });
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const part = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= part.length;
      if (!response.write(part)) {
        response.once("drain", pump);
        return;
      }
    }
    response.end();
  };
  pump();
}

async function checkAssertion(token: string | undefined, secret: string): Promise<unknown> {
  if (!token) return null;
  try {
    return await verify(token, secret, "HS256");
  } catch (error) {
    return { invalid: String(error) };
  }
}

/** The JSON description of a request, read to its end. */
async function describe(request: IncomingMessage, url: URL, secret: string): Promise<string> {
  const hash = createHash("sha256");
  let bodyBytes = 0;
  for await (const chunk of request) {
    hash.update(chunk as Buffer);
    bodyBytes += (chunk as Buffer).length;
  }
  return JSON.stringify({
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers: request.headers,
    bodyBytes,
    bodySha256: hash.digest("hex"),
    assertion: await checkAssertion(request.headers["x-portcullis-assertion"] as string | undefined, secret),
  });
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function issuerRoute(
  issuer: JwksIssuer,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): Promise<boolean> {
  if (path === "/.well-known/jwks.json") {
    json(response, issuer.jwks());
    return true;
  }
  if (path === "/__rotate" && request.method === "POST") {
    await issuer.rotate();
    json(response, issuer.jwks());
    return true;
  }
  if (path === "/__sign" && request.method === "POST") {
    let text = "";
    for await (const chunk of request) text += chunk;
    const { alg, claims, expiresInSeconds } = JSON.parse(text);
    json(response, { token: await issuer.sign(alg, claims, expiresInSeconds) });
    return true;
  }
  return false;
}

function handler(secret: string, issuer: JwksIssuer) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://origin.invalid");
    if (await issuerRoute(issuer, request, response, url.pathname)) return;
    if (url.pathname === "/drip") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("first ");
      await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get("ms"))));
      response.end("last");
      return;
    }
    if (url.pathname === "/download") {
      download(response, Number(url.searchParams.get("bytes") ?? 0));
      return;
    }
    try {
      const body = await describe(request, url, secret);
      if (url.pathname === "/slow")
        await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get("ms"))));
      if (response.destroyed) return;
      response.writeHead(200, { "content-type": "application/json", "x-origin": "test-origin" });
      response.end(body);
    } catch {
      // The client went away (a timeout test): nothing to answer.
      response.destroy();
    }
  };
}

/** Starts the origin on a free loopback port; `secret` is the assertion's HS256 key. */
export async function startOrigin(secret: string, port = 0): Promise<Origin> {
  const issuer = await JwksIssuer.create();
  const handle = handler(secret, issuer);
  const server: Server = createServer((request, response) => void handle(request, response));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
