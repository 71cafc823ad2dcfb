/**
 * Exactness against the peer: 4N concurrent requests on a key limited to N per minute, counting
 * how many each stack lets through. Exact is N.
 */
import { adminCall, type Stack, startPeer } from "./stack.ts";

/** The limit N of the exactness run. */
const N = 50;

export interface Exactness {
  limit: number;
  sent: number;
  portcullis: number;
  peer: number;
}

async function passes(url: string, key: string, count: number): Promise<number> {
  const responses = await Promise.all(
    Array.from({ length: count }, () => fetch(url, { headers: { Authorization: `Bearer ${key}` } })),
  );
  await Promise.all(responses.map((response) => response.body?.cancel()));
  return responses.filter((response) => response.status === 200).length;
}

export async function exactness(stack: Stack): Promise<Exactness> {
  const workspace = await adminCall(stack.portcullis.url, "/workspaces", { name: "exactness" });
  const limited = await adminCall(stack.portcullis.url, "/keys", {
    workspaceId: workspace.id,
    type: "bench",
    limits: { minute: N },
  });
  const portcullis = await passes(`${stack.portcullis.url}/api/items`, limited.key, 4 * N);
  const peerKey = "peer_exactness_key";
  const peer = await startPeer(stack.origin.url, N, [peerKey]);
  try {
    return { limit: N, sent: 4 * N, portcullis, peer: await passes(`${peer.url}/api/items`, peerKey, 4 * N) };
  } finally {
    await peer.stop();
  }
}
