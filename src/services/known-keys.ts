/**
 * The keys this isolate has found in D1, by hash: the key's id (its Durable Object's name), type
 * and workspace, none of which ever changes. A warm key goes straight to its object without a
 * D1 read, and the admin API reaches keys by id without D1 at all. Only these fixed facts are
 * cached: the key's state always comes from its object, so a revoke is never missed. Bounded;
 * the oldest entry goes first.
 */

/** Keys remembered per isolate (about 200 bytes each, about 10 MB at most). */
const MAX_KNOWN_KEYS = 50_000;

export interface KnownKey {
  id: string;
  type: string;
  workspaceId: string;
}

export class KnownKeys {
  private readonly keys = new Map<string, KnownKey>();

  constructor(private readonly capacity = MAX_KNOWN_KEYS) {}

  get(hash: string): KnownKey | undefined {
    return this.keys.get(hash);
  }

  add(hash: string, key: KnownKey): void {
    if (this.keys.size >= this.capacity) {
      const oldest = this.keys.keys().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
    this.keys.set(hash, key);
  }

  delete(hash: string): void {
    this.keys.delete(hash);
  }
}
