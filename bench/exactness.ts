/**
 * Exactness against the peer: 4N concurrent requests on a key limited to N, counting how many each
 * stack lets through. Exact is N. Portcullis' key counts N an hour: its windows are GCRA (one
 * request's room comes back every window/N, 1.2 s for 50 a minute), so a burst that takes longer
 * than that on a loaded machine rightly lets one more through a minute window; an hour's 72 s
 * keeps the run a test of counting alone. The peer counts N in its fixed minute window.
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
    limits: { hour: N },
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
