/**
 * The hashes this isolate has seen in D1, so that a warm key goes straight to its Durable Object
 * without a D1 read. Only existence is cached: the key's state always comes from the object, so
 * a revoke is never missed. Bounded; the oldest entry goes first.
 */

/** Hashes remembered per isolate (64 hex characters each, about 10 MB at most). */
const MAX_KNOWN_KEYS = 50_000;

export class KnownKeys {
  private readonly hashes = new Set<string>();

  constructor(private readonly capacity = MAX_KNOWN_KEYS) {}

  has(hash: string): boolean {
    return this.hashes.has(hash);
  }

  add(hash: string): void {
    if (this.hashes.size >= this.capacity) {
      const oldest = this.hashes.values().next();
      if (!oldest.done) this.hashes.delete(oldest.value);
    }
    this.hashes.add(hash);
  }

  delete(hash: string): void {
    this.hashes.delete(hash);
  }
}
