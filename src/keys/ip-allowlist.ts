/**
 * Per-key IP allowlists: IPv4 and IPv6 addresses and CIDR ranges. Addresses are parsed with
 * Hono's IP utilities; an IPv4-mapped IPv6 client (`::ffff:10.0.0.1`) matches IPv4 rules.
 */
import { convertIPv4ToBinary, convertIPv6ToBinary, distinctRemoteAddr } from "hono/utils/ipaddr";

interface Range {
  v6: boolean;
  network: bigint;
  mask: bigint;
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

function toBinary(address: string): { v6: boolean; value: bigint } | null {
  try {
    const kind = distinctRemoteAddr(address);
    if (kind === "IPv4") return { v6: false, value: convertIPv4ToBinary(address) };
    if (kind === "IPv6") {
      const value = convertIPv6ToBinary(address);
      if (value >> 32n === 0xffffn) return { v6: false, value: value - IPV4_MAPPED_PREFIX };
      return { v6: true, value };
    }
  } catch {
    // An unparsable address is reported as null below.
  }
  return null;
}

/** Parses `1.2.3.0/24`, `2001:db8::/32` or a single address; null when invalid. */
export function parseRange(text: string): Range | null {
  const [address = "", bitsText, extra] = text.split("/");
  if (extra !== undefined) return null;
  const parsed = toBinary(address);
  if (!parsed) return null;
  const width = parsed.v6 ? 128 : 32;
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return null;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (bits > width) return null;
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { v6: parsed.v6, network: parsed.value & mask, mask };
}

/** Whether `ip` lies in one of `allowlist`'s ranges. An unparsable `ip` is outside all. */
export function ipAllowed(ip: string, allowlist: readonly string[]): boolean {
  const client = toBinary(ip);
  if (!client) return false;
  return allowlist.some((entry) => {
    const range = parseRange(entry);
    return range !== null && range.v6 === client.v6 && (client.value & range.mask) === range.network;
  });
}
