// The address parsers and range tables behind the URL rules, checked at the edges of each range.
import { describe, expect, it } from "vitest";
import { isForbiddenIPv4, isForbiddenIPv6, parseIPv4, parseIPv6 } from "../../src/net/ip";

const v4 = (s: string) => {
  const n = parseIPv4(s);
  if (n === undefined) throw new Error(`unparseable ${s}`);
  return n;
};
const v6 = (s: string) => {
  const g = parseIPv6(s);
  if (g === undefined) throw new Error(`unparseable ${s}`);
  return g;
};

describe("parseIPv4", () => {
  it("parses dotted quads only", () => {
    expect(parseIPv4("127.0.0.1")).toBe(0x7f000001);
    expect(parseIPv4("255.255.255.255")).toBe(0xffffffff);
    for (const bad of [
      "127.1",
      "0177.0.0.1",
      "256.0.0.1",
      "1.2.3.4.5",
      "1.2.3.",
      "a.b.c.d",
      "",
      "1.2.3.-4",
    ]) {
      expect(parseIPv4(bad), bad).toBeUndefined();
    }
  });
});

describe("parseIPv6", () => {
  it("expands :: and trailing dotted quads", () => {
    expect(parseIPv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("fe80::")).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("::ffff:127.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("rejects malformed addresses", () => {
    for (const bad of [
      "1::2::3",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "g::",
      ":1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
    ]) {
      expect(parseIPv6(bad), bad).toBeUndefined();
    }
  });
});

describe("IPv4 ranges", () => {
  it.each([
    ["0.255.255.255", "1.0.0.0"],
    ["10.255.255.255", "11.0.0.0"],
    ["100.64.0.0", "100.63.255.255"],
    ["100.127.255.255", "100.128.0.0"],
    ["127.0.0.0", "128.0.0.0"],
    ["169.254.0.0", "169.253.255.255"],
    ["172.16.0.0", "172.15.255.255"],
    ["172.31.255.255", "172.32.0.0"],
    ["192.0.0.255", "192.0.1.0"],
    ["192.0.2.255", "192.0.3.0"],
    ["192.168.255.255", "192.169.0.0"],
    ["198.18.0.0", "198.17.255.255"],
    ["198.19.255.255", "198.20.0.0"],
    ["198.51.100.0", "198.51.101.0"],
    ["203.0.113.255", "203.0.114.0"],
    ["224.0.0.0", "223.255.255.255"],
    ["255.255.255.255", "8.8.8.8"],
  ])("%s is forbidden, %s is not", (inside, outside) => {
    expect(isForbiddenIPv4(v4(inside))).toBe(true);
    expect(isForbiddenIPv4(v4(outside))).toBe(false);
  });
});

describe("IPv6 ranges", () => {
  it.each([
    "::",
    "::1",
    "fc00::",
    "fdff:ffff::1",
    "fe80::1",
    "febf::1",
    "fec0::1",
    "ff00::",
    "ff0e::1",
    "2001:db8::",
    "2001:db8:ffff::1",
    "100::1",
    "64:ff9b:1::8.8.8.8",
    "::ffff:10.0.0.1",
    "::ffff:0:192.168.0.1",
    "::172.16.0.1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::100.64.0.1",
    "2002:a9fe:a9fe::",
    "2001:0:c000:0201::1", // Teredo with a TEST-NET-1 server
    "2001:0:808:808::80ff:fefe", // Teredo client 127.0.1.1 (bits inverted)
  ])("%s is forbidden", (addr) => {
    expect(isForbiddenIPv6(v6(addr))).toBe(true);
  });

  it.each([
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "fbff::1",
    "ff::1",
    "2001:db9::1",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    "2001:0:808:808::f7f7:f7f7", // Teredo client 8.8.8.8
  ])("%s is allowed", (addr) => {
    expect(isForbiddenIPv6(v6(addr))).toBe(false);
  });
});
