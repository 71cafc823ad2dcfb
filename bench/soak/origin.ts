/**
 * The soak's origin: a node:http server that counts what Portcullis forwards to it. Each request
 * is recorded by its `X-Request-Id` (the soak sends its own, which Portcullis keeps and forwards,
 * docs/headers.md) with the key id Portcullis names in `X-Portcullis-Key-Id`. Every answer
 * carries `X-Soak-Origin`, so a client knows its request reached the origin.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface OriginHit {
  requestId: string;
  keyId: string;
  method: string;
}

export interface CountingOrigin {
  url: string;
  hits: OriginHit[];
  close(): Promise<void>;
}

export async function startCountingOrigin(): Promise<CountingOrigin> {
  const hits: OriginHit[] = [];
  const server: Server = createServer((request, response) => {
    hits.push({
      requestId: String(request.headers["x-request-id"] ?? ""),
      keyId: String(request.headers["x-portcullis-key-id"] ?? ""),
      method: request.method ?? "",
    });
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json", "x-soak-origin": "1" });
      response.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
