/**
 * Which of a workspace's `shards` objects serves a key: FNV-1a of the key's id. The context and
 * usage shards both place keys this way; the same id always lands on the same shard.
 */
export function shardOf(keyId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < keyId.length; i++) {
    hash ^= keyId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
