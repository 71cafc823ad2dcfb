/**
 * The abuse limit (docs/decisions.md): a client that sends well-formed keys that do not exist is slowed
 * per IP. Each miss is counted with the Workers rate-limiting binding; once a client is over
 * the limit, this isolate answers it 429 for keys it has not seen, without reading D1, until the
 * period is over. Keys it has seen (a client's own valid keys) are not affected.
 */

/** How long a client over the limit is refused here, ms (the binding's period). */
export const ABUSE_BLOCK_MS = 60_000;
/** Clients remembered as blocked per isolate; the oldest is forgotten first. */
const MAX_BLOCKED = 10_000;

export class AbuseGuard {
  private readonly blockedUntil = new Map<string, number>();

  /** Seconds until `ip` may look keys up again; 0 when it may now. */
  retryAfter(ip: string, now: number): number {
    const until = this.blockedUntil.get(ip);
    if (until === undefined) return 0;
    if (until <= now) {
      this.blockedUntil.delete(ip);
      return 0;
    }
    return Math.ceil((until - now) / 1000);
  }

  /** Counts a miss from `ip`; false when the client is now over the limit. */
  async allowMiss(limiter: RateLimit | undefined, ip: string, now: number): Promise<boolean> {
    if (!limiter) return true;
    const { success } = await limiter.limit({ key: ip });
    if (success) return true;
    if (this.blockedUntil.size >= MAX_BLOCKED) {
      const oldest = this.blockedUntil.keys().next();
      if (!oldest.done) this.blockedUntil.delete(oldest.value);
    }
    this.blockedUntil.set(ip, now + ABUSE_BLOCK_MS);
    return false;
  }
}
