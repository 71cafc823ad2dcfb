/**
 * Facts about the inbound request that decisions use and the client cannot choose freely.
 */

/** The client's IP as Cloudflare saw it; null when unknown (local tools without the header). */
export function clientIp(headers: Headers): string | null {
  return headers.get("cf-connecting-ip");
}
