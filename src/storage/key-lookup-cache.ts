/**
 * The location's copy of key lookups, in the Cache API: what a key's hash maps to (its id, type
 * and workspace, and a deleted key's tombstone), none of which ever changes while the hash is
 * stored, so that an isolate meeting a key for the first time reads D1 only when no isolate of
 * its location has read it within a week. The key's state is never cached: its object decides
 * every request, so an entry for a key revoked or deleted since refuses as the object says.
 *
 * Entries are found by a synthetic URL built from the key's SHA-256 (never the key) and hold
 * nothing secret. Only found keys are cached: a key created a moment ago is never hidden by a
 * miss remembered here. A cache that fails is a miss: D1 answers.
 */
import type { KeyIdentity } from "../keys/record";
import type { KeyLocation } from "./keys";

/**
 * How long a location keeps a lookup, seconds (a week): bounds the cache, not correctness; at a
 * day, re-reading every active key once a day per location would cost D1 more than everything
 * else together (docs/capacity.md).
 */
export const KEY_LOOKUP_TTL_SECONDS = 604_800;
/** The Cache API's named cache of lookups, apart from any HTTP caching of the zone. */
const CACHE_NAME = "portcullis-key-lookup";
/** Entries' URLs: a reserved host (never resolved) and a version of the entry's shape. */
const ENTRY_URL = "https://key-lookup.portcullis.invalid/v1/";

function isIdentity(value: unknown): value is KeyIdentity {
  const identity = value as KeyIdentity;
  return (
    typeof identity === "object" &&
    identity !== null &&
    typeof identity.id === "string" &&
    typeof identity.workspaceId === "string" &&
    typeof identity.type === "string" &&
    (identity.expiresAt === null || typeof identity.expiresAt === "number")
  );
}

/** An entry as stored by `put`; anything else reads as a miss. */
function isLocation(value: unknown): value is KeyLocation {
  const location = value as KeyLocation;
  return (
    typeof location === "object" &&
    location !== null &&
    typeof location.id === "string" &&
    typeof location.type === "string" &&
    typeof location.workspaceId === "string" &&
    (location.tombstone === null || isIdentity(location.tombstone))
  );
}

export class KeyLookupCache {
  constructor(private readonly open: () => Promise<Cache>) {}

  /** The location's entry for `hash`, or null (none, unreadable, or the cache failed). */
  async get(hash: string): Promise<KeyLocation | null> {
    try {
      const cache = await this.open();
      const response = await cache.match(ENTRY_URL + hash);
      if (!response) return null;
      const entry: unknown = await response.json();
      return isLocation(entry) ? entry : null;
    } catch {
      return null;
    }
  }

  /** Stores a found key's lookup for `KEY_LOOKUP_TTL_SECONDS`; a failure only loses the entry. */
  async put(hash: string, location: KeyLocation): Promise<void> {
    try {
      const cache = await this.open();
      const entry = new Response(JSON.stringify(location), {
        headers: {
          "Content-Type": "application/json",
          "Cache-Control": `max-age=${KEY_LOOKUP_TTL_SECONDS}`,
        },
      });
      await cache.put(ENTRY_URL + hash, entry);
    } catch {
      // The next isolate of this location reads D1 instead.
    }
  }

  /** Removes the entry (its key's object disagreed with it); a failure leaves it to expire. */
  async delete(hash: string): Promise<void> {
    try {
      await (await this.open()).delete(ENTRY_URL + hash);
    } catch {
      // It expires within KEY_LOOKUP_TTL_SECONDS.
    }
  }
}

/** The lookups cache of the location this isolate runs in. */
export function keyLookupCache(): KeyLookupCache {
  return new KeyLookupCache(() => caches.open(CACHE_NAME));
}
