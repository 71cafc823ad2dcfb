/**
 * The keys this isolate has found, by hash: the key's id (its Durable Object's name), type and
 * workspace, and a deleted key's tombstone, none of which ever changes. A warm key goes straight
 * to its object without a D1 read, and the admin API reaches keys by id without D1 at all. Only
 * these fixed facts are cached: the key's state always comes from its object, so a revoke is
 * never missed. Bounded; the oldest entry goes first. Each request that meets a key this isolate
 * has not found yet looks it up itself: no request waits on another's I/O.
 *
 * `KeyLocator` finds a key this isolate has not seen: in its location's cache (the Cache API,
 * storage/key-lookup-cache.ts), else in D1: at a read replica, and at the primary when the replica
 * does not show it (docs/consistency.md#the-cold-path).
 */
import type { KeyLookupCache } from "../storage/key-lookup-cache";
import type { KeyLocation } from "../storage/keys";

/** Keys remembered per isolate (about 200 bytes each, about 10 MB at most). */
const MAX_KNOWN_KEYS = 50_000;

export type KnownKey = KeyLocation;

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

/** One D1 read of a hash's lookup (storage/keys.ts `locateKey`). */
export type LocateRead = (hash: string) => Promise<KeyLocation | null>;

/** Where D1 is read: a replica when the binding has one, and always the primary. */
export interface LookupReads {
  /** A read replica (a `first-unconstrained` session); null reads the primary only. */
  replica: LocateRead | null;
  /** The primary, which alone knows that no key has a hash now. */
  primary: LocateRead;
}

/**
 * Finds a key's fixed facts by hash: the location's cache first, then a D1 replica, then, for a
 * hash the replica does not show, the primary; a found key is cached.
 */
export class KeyLocator {
  constructor(
    private readonly reads: LookupReads,
    private readonly cache: KeyLookupCache,
    /** Runs the cache's write after the answer (the request's `waitUntil`). */
    private readonly background: (work: Promise<unknown>) => void,
  ) {}

  async locate(hash: string): Promise<KnownKey | null> {
    const cached = await this.cache.get(hash);
    if (cached) return cached;
    const { replica, primary } = this.reads;
    // A replica lags: a key it does not show may have been created a moment ago, so a miss is
    // read again at the primary before the key is refused.
    const found = (replica ? await replica(hash) : null) ?? (await primary(hash));
    // Only found keys: a miss is never cached, so a key created a moment ago works at once.
    if (found) this.background(this.cache.put(hash, found));
    return found;
  }

  forget(hash: string): void {
    this.background(this.cache.delete(hash));
  }
}
