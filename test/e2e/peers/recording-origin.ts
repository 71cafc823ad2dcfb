/**
 * An origin that records every request it receives, for tests that must prove a request never
 * reached the origin, or reached it without a value a client tried to smuggle in. It answers
 * 200 with JSON `{method, url, headers}` of the request.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  /** The request target exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface RecordingOrigin {
  url: string;
  received: Received[];
  /** The requests whose target contains `marker`. */
  receivedWith(marker: string): Received[];
  close(): Promise<void>;
}

export async function startRecordingOrigin(): Promise<RecordingOrigin> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const entry = { method: request.method ?? "", url: request.url ?? "", headers: request.headers };
    received.push(entry);
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(entry));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    receivedWith: (marker) => received.filter((entry) => entry.url.includes(marker)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
