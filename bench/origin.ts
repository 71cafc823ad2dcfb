/**
 * The benchmark's origin: a node:http server that answers every request with the same small
 * JSON body, so that it does the same work whoever calls it (the e2e origin echoes headers
 * and verifies assertions, which would charge Portcullis' requests more than the baseline's).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Origin } from "../test/e2e/origin.ts";

const BODY = JSON.stringify({ items: [{ id: 1, name: "widget" }] });

export async function startBenchOrigin(): Promise<Origin> {
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json", "content-length": String(BODY.length) });
      response.end(BODY);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
