/**
 * The soak's webhook receiver (docs/events.md): verifies each delivery with the `standardwebhooks`
 * package, as any receiver would, and keeps the verified events by `webhook-id`. It refuses the
 * first attempt of a seeded share of events (503), so that retries are part of every run.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { Rng } from "./rng.ts";

export interface ReceivedEvent {
  webhookId: string;
  type: string;
  data: Record<string, unknown>;
  attempts: number;
  /** When the receiver first accepted it (ms, epoch). */
  acceptedAt: number;
}

export interface Receiver {
  url: string;
  /** Verified, accepted events by webhook-id (deduplicated, as docs/events.md asks). */
  events: Map<string, ReceivedEvent>;
  /** Deliveries whose signature did not verify. */
  invalid: number;
  /** First attempts refused on purpose. */
  refused: number;
  close(): Promise<void>;
}

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    request.on("data", (chunk) => {
      text += chunk;
    });
    request.on("end", () => resolve(text));
  });
}

export async function startReceiver(secret: string, seed: number, refuseShare: number): Promise<Receiver> {
  const verifier = new Webhook(secret);
  const attempts = new Map<string, number>();
  const receiver: Omit<Receiver, "url" | "close"> = { events: new Map(), invalid: 0, refused: 0 };
  const server: Server = createServer(async (request, response) => {
    const text = await body(request);
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
    );
    let event: { type: string; data: Record<string, unknown> };
    try {
      event = verifier.verify(text, headers) as typeof event;
    } catch {
      receiver.invalid += 1;
      response.writeHead(400).end();
      return;
    }
    const id = headers["webhook-id"] ?? "";
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    // The same id always draws the same: its first attempt is refused or not in every run.
    if (attempt === 1 && new Rng(seed, `webhook:${id}`).chance(refuseShare)) {
      receiver.refused += 1;
      response.writeHead(503).end();
      return;
    }
    const known = receiver.events.get(id);
    if (known) known.attempts = attempt;
    else
      receiver.events.set(id, {
        webhookId: id,
        type: event.type,
        data: event.data,
        attempts: attempt,
        acceptedAt: Date.now(),
      });
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
