/**
 * Structured logs (docs/consistency.md, Logs): one JSON line per event, carrying the request id of
 * the request that caused it, wherever in the code it is written. The id travels with the request
 * through `AsyncLocalStorage` (set once by `withRequestId`), so no function needs it as a parameter.
 * Never log a key, a token or a query string.
 *
 * A flood of one denial costs no flood of lines: the isolate's `DenialTally` lets 10 denial lines a
 * clock minute through for each decision code and client IP, counts the rest, and its summaries
 * precede the isolate's first line after that minute.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { convertIPv6BinaryToString, convertIPv6ToBinary, isIPv4MappedIPv6 } from "hono/utils/ipaddr";

const request = new AsyncLocalStorage<{ requestId: string }>();

/** Runs `work` with `requestId` attached to every log line written during it. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return request.run({ requestId }, work);
}

export type LogLevel = "error" | "warn" | "info";

function write(level: LogLevel, line: string): void {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Denial lines logged a clock minute for one decision code and client IP; the rest are counted. */
export const DENIAL_LINES_PER_MINUTE = 10;
/** Pairs of code and client IP one isolate tallies at most in a minute. */
export const MAX_TALLIED_PAIRS = 1000;
const MINUTE_MS = 60_000;

/** What the summary line of one pair says: the minute's denials counted, not logged. */
export interface Suppressed {
  code: string;
  /** The client IP, an IPv6 address as its /64; null when unknown. */
  clientIp: string | null;
  suppressed: number;
  /** The start of the clock minute, ISO 8601. */
  minute: string;
}

interface Pair {
  code: string;
  clientIp: string | null;
  logged: number;
  suppressed: number;
}

const IPV4_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4 = new RegExp(`^(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}$`);

/**
 * The address a denial is tallied under: an IPv4 address as it is, an IPv6 address as its /64
 * (`2001:db8:1:2::/64`; an IPv4-mapped one as its IPv4 address), anything else null (unknown).
 */
export function tallyAddress(ip: string | null): string | null {
  if (ip === null) return null;
  if (IPV4.test(ip)) return ip;
  if (!ip.includes(":")) return null;
  try {
    const address = convertIPv6ToBinary(ip);
    if (isIPv4MappedIPv6(address)) return convertIPv6BinaryToString(address).slice("::ffff:".length);
    return `${convertIPv6BinaryToString((address >> 64n) << 64n)}/64`;
  } catch {
    return null;
  }
}

const NOTHING_DUE: readonly Suppressed[] = Object.freeze([]);

/**
 * One isolate's tally of denial lines, by clock minute. Memory is bounded: at most
 * `MAX_TALLIED_PAIRS` pairs in the current minute, and the summaries of the minute that ended,
 * held until the next line reports them. A pair first seen when the minute's tally is full is not
 * tallied: its denials are logged, each one, until the minute ends.
 */
export class DenialTally {
  private readonly now: () => number;
  private minute = Number.NaN;
  private pairs = new Map<string, Pair>();
  private waiting: Suppressed[] = [];
  /** The last client IP seen and its tally address: a flood repeats one. */
  private lastIp: string | null = null;
  private lastAddress: string | null = null;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Pairs tallied in the current minute. */
  get size(): number {
    return this.pairs.size;
  }

  /** Summaries waiting for the next line. */
  get pending(): number {
    return this.waiting.length;
  }

  /** True when this denial is to be logged; false when it is only counted. */
  admit(code: string, clientIp: string | null): boolean {
    this.roll();
    if (clientIp !== this.lastIp) {
      this.lastIp = clientIp;
      this.lastAddress = tallyAddress(clientIp);
    }
    const address = this.lastAddress;
    const id = `${code} ${address}`;
    const pair = this.pairs.get(id);
    if (pair === undefined) {
      if (this.pairs.size >= MAX_TALLIED_PAIRS) return true;
      this.pairs.set(id, { code, clientIp: address, logged: 1, suppressed: 0 });
      return true;
    }
    if (pair.logged < DENIAL_LINES_PER_MINUTE) {
      pair.logged += 1;
      return true;
    }
    pair.suppressed += 1;
    return false;
  }

  /** The summaries of minutes that have ended, each returned once. */
  due(): readonly Suppressed[] {
    this.roll();
    if (this.waiting.length === 0) return NOTHING_DUE;
    const due = this.waiting;
    this.waiting = [];
    return due;
  }

  /** Starts a new minute's tally when the clock has left the current one. */
  private roll(): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    if (minute === this.minute) return;
    if (this.pairs.size > 0) {
      const start = new Date(this.minute * MINUTE_MS).toISOString();
      for (const { code, clientIp, suppressed } of this.pairs.values()) {
        if (suppressed > 0) this.waiting.push({ code, clientIp, suppressed, minute: start });
      }
      this.pairs = new Map();
    }
    this.minute = minute;
  }
}

let tally = new DenialTally();

/** Makes `next` the isolate's tally (tests: a fresh one with their own clock); returns the previous one. */
export function useDenialTally(next: DenialTally): DenialTally {
  const previous = tally;
  tally = next;
  return previous;
}

/**
 * Writes one log line: level, event, the current request id (if any) and `fields`. The summary
 * lines of a minute of suppressed denials that has ended come first.
 */
export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  for (const summary of tally.due()) {
    write("warn", JSON.stringify({ level: "warn", event: "denials_suppressed", ...summary }));
  }
  const requestId = request.getStore()?.requestId;
  write(level, JSON.stringify({ level, event, ...(requestId !== undefined && { requestId }), ...fields }));
}

/**
 * Whether the line of a denial with this code from this client IP is to be written: false when
 * the flood rule counts it instead (the count is reported in the minute's summary line).
 */
export function denialAdmitted(code: string, clientIp: string | null): boolean {
  return tally.admit(code, clientIp);
}
