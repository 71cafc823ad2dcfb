import { describe, expect, it } from "vitest";
import { ipAllowed, parseRange } from "../../src/keys/ip-allowlist";

describe("IP allowlists", () => {
  it("matches IPv4 addresses and CIDR ranges", () => {
    expect(ipAllowed("10.1.2.3", ["10.0.0.0/8"])).toBe(true);
    expect(ipAllowed("11.1.2.3", ["10.0.0.0/8"])).toBe(false);
    expect(ipAllowed("192.168.1.7", ["192.168.1.7"])).toBe(true);
    expect(ipAllowed("192.168.1.8", ["192.168.1.7/32"])).toBe(false);
    expect(ipAllowed("1.2.3.4", ["0.0.0.0/0"])).toBe(true);
  });

  it("matches IPv6 addresses and CIDR ranges, and IPv4-mapped addresses against IPv4 rules", () => {
    expect(ipAllowed("2001:db8::1", ["2001:db8::/32"])).toBe(true);
    expect(ipAllowed("2001:db9::1", ["2001:db8::/32"])).toBe(false);
    expect(ipAllowed("::1", ["::1"])).toBe(true);
    expect(ipAllowed("::ffff:10.0.0.1", ["10.0.0.0/8"])).toBe(true);
    expect(ipAllowed("10.0.0.1", ["2001:db8::/32"])).toBe(false);
  });

  it("a range's mask covers exactly its prefix bits", () => {
    expect(ipAllowed("10.0.0.77", ["10.0.0.0/24"])).toBe(true);
    for (const outside of ["11.0.0.77", "10.0.1.77", "138.0.0.77", "10.128.0.77"]) {
      expect(ipAllowed(outside, ["10.0.0.0/24"]), outside).toBe(false);
    }
    expect(ipAllowed("2001:db9::1", ["2001:db8::/32"])).toBe(false);
    expect(ipAllowed("0.0.0.1", ["0.0.0.0/0"])).toBe(true);
  });

  it("treats an unparsable client address as outside every range", () => {
    expect(ipAllowed("not-an-ip", ["0.0.0.0/0", "::/0"])).toBe(false);
    expect(ipAllowed("", ["0.0.0.0/0"])).toBe(false);
  });

  it("refuses malformed ranges", () => {
    for (const range of [
      "10.0.0.0/33",
      "10.0.0/8",
      "2001:db8::/129",
      "1.2.3.4/8/1",
      "host.example",
      "10.0.0.0/x",
    ]) {
      expect(parseRange(range), range).toBeNull();
    }
    expect(parseRange("10.0.0.0/8")).not.toBeNull();
  });
});
