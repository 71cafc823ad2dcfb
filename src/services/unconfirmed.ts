/**
 * Keys this isolate restricted (revoke, disable, delete) while D1 could not be written: their
 * object holds the change and retries D1, but until D1 has it, D1 shows the key less restricted
 * than it is. `limiterFailure: "open"` decides from D1 when the object fails, so it answers 503
 * for these keys instead. Bounded; the oldest entry goes first.
 */

const MAX_UNCONFIRMED = 10_000;
/** How long an entry is kept: well past the object's D1 retries. */
const UNCONFIRMED_MS = 10 * 60_000;

export class UnconfirmedRestrictions {
  private readonly since = new Map<string, number>();

  add(keyId: string, now: number): void {
    if (this.since.size >= MAX_UNCONFIRMED) {
      const oldest = this.since.keys().next();
      if (!oldest.done) this.since.delete(oldest.value);
    }
    this.since.set(keyId, now);
  }

  has(keyId: string, now: number): boolean {
    const at = this.since.get(keyId);
    if (at === undefined) return false;
    if (now - at < UNCONFIRMED_MS) return true;
    this.since.delete(keyId);
    return false;
  }
}

/** The isolate's one set. */
export const unconfirmed = new UnconfirmedRestrictions();
