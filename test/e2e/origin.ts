/**
 * A real origin server (node:http) for end-to-end tests and the benchmark. Every answer
 * describes the request it received; a few paths behave specially:
 *
 *   /slow?ms=N        answers after N ms (origin timeouts)
 *   /download?bytes=N streams N bytes
 *   anything else     200 JSON {method, path, query, headers, bodyBytes, bodySha256}
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

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

async function describe(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const hash = createHash("sha256");
  let bodyBytes = 0;
  for await (const chunk of request) {
    hash.update(chunk as Buffer);
    bodyBytes += (chunk as Buffer).length;
  }
  const body = JSON.stringify({
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers: request.headers,
    bodyBytes,
    bodySha256: hash.digest("hex"),
  });
  response.writeHead(200, { "content-type": "application/json", "x-origin": "test-origin" });
  response.end(body);
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? "/", "http://origin.invalid");
  if (url.pathname === "/slow") {
    setTimeout(() => void describe(request, response, url), Number(url.searchParams.get("ms") ?? 1000));
    return;
  }
  if (url.pathname === "/download") {
    download(response, Number(url.searchParams.get("bytes") ?? 0));
    return;
  }
  void describe(request, response, url);
}

export async function startOrigin(port = 0): Promise<Origin> {
  const server: Server = createServer(handle);
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
