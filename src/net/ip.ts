// IP address literals and the ranges the gateway never sends a request to (or lets the upstream fetch).
// Parses only the canonical forms a WHATWG URL produces; `urls.ts` canonicalises every other spelling
// (decimal, hex, octal, short IPv4; mixed IPv6) through `new URL()` before asking here.
// Measured against ipaddr.js 2.5.0 `range()` on 2026-12-07 (786 addresses: every IP literal in the tests, the
// edges of each range here and in ipaddr.js, each also inside the IPv6 forms that embed an IPv4): kept, as 76
// differ. ipaddr.js also refuses AS112/AMT (192.31.196.0/24, 192.175.48.0/24, 192.52.193.0/24), 2001::/23
// beyond Teredo, 2620:4f:8000::/48, 5f00::/16 and 3fff::/20; none refused here is allowed there. It has no
// IPv4-compatible ::a.b.c.d range and reads no IPv4 out of NAT64, 6to4 or Teredo, and costs ~4 KiB gzip.

/** An IPv6 address as its eight 16-bit groups. */
export type IPv6Groups = readonly number[];

interface Cidr4 {
  base: number;
  bits: number;
}
interface Cidr6 {
  groups: IPv6Groups;
  bits: number;
}

/** Special-purpose IPv4 ranges (RFC 6890 and friends): none of them is a public web server. */
const FORBIDDEN_V4: readonly Cidr4[] = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8", // private
  "100.64.0.0/10", // carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local (cloud metadata services live here)
  "172.16.0.0/12", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // TEST-NET-1
  "192.88.99.0/24", // deprecated 6to4 relay anycast
  "192.168.0.0/16", // private
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // TEST-NET-2
  "203.0.113.0/24", // TEST-NET-3
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, includes the broadcast address 255.255.255.255
].map(cidr4);

/** Special-purpose IPv6 ranges. Ranges that embed an IPv4 address are handled by `embeddedIPv4`. */
const FORBIDDEN_V6: readonly Cidr6[] = [
  "::/128", // unspecified
  "::1/128", // loopback
  "100::/64", // discard-only
  "64:ff9b:1::/48", // local-use NAT64
  "2001:db8::/32", // documentation
  "fc00::/7", // unique local (ULA)
  "fe80::/10", // link-local
  "fec0::/10", // deprecated site-local
  "ff00::/8", // multicast
].map(cidr6);

/** Parses a dotted-quad IPv4 address ("127.0.0.1") into an unsigned 32-bit number. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** Parses an IPv6 address without brackets ("::ffff:7f00:1", "64:ff9b::10.0.0.1") into 8 groups. */
export function parseIPv6(text: string): IPv6Groups | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? hextets(halves[0]) : [];
  const tail = halves.length === 2 && halves[1] ? hextets(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Groups of one side of "::"; a trailing dotted quad counts as two groups. */
function hextets(text: string): number[] | undefined {
  const out: number[] = [];
  const pieces = text.split(":");
  for (const [i, piece] of pieces.entries()) {
    if (i === pieces.length - 1 && piece.includes(".")) {
      const v4 = parseIPv4(piece);
      if (v4 === undefined) return undefined;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
      out.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

export function isForbiddenIPv4(addr: number): boolean {
  return FORBIDDEN_V4.some((c) => inCidr4(addr, c));
}

export function isForbiddenIPv6(groups: IPv6Groups): boolean {
  if (FORBIDDEN_V6.some((c) => inCidr6(groups, c))) return true;
  return embeddedIPv4(groups).some(isForbiddenIPv4);
}

export function isLoopbackIPv4(addr: number): boolean {
  return addr >>> 24 === 127;
}

export function isLoopbackIPv6(groups: IPv6Groups): boolean {
  return groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
}

/**
 * The IPv4 addresses an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::)
 * and Teredo (2001:0:server:…:~client). A forbidden one makes the IPv6 address forbidden too.
 */
function embeddedIPv4(g: IPv6Groups): number[] {
  const at = (i: number, j: number) => (((g[i] ?? 0) << 16) | (g[j] ?? 0)) >>> 0;
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const found: number[] = [];
  if (zero(0, 5) && (g[5] === 0xffff || g[5] === 0)) found.push(at(6, 7));
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) found.push(at(6, 7));
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) found.push(at(6, 7));
  if (g[0] === 0x2002) found.push(at(1, 2));
  if (g[0] === 0x2001 && g[1] === 0) found.push(at(2, 3), ~at(6, 7) >>> 0);
  return found;
}

function cidr4(text: string): Cidr4 {
  const [addr, bits] = text.split("/");
  const base = parseIPv4(addr ?? "");
  if (base === undefined) throw new Error(`bad IPv4 range ${text}`);
  return { base, bits: Number(bits) };
}

function cidr6(text: string): Cidr6 {
  const [addr, bits] = text.split("/");
  const groups = parseIPv6(addr ?? "");
  if (groups === undefined) throw new Error(`bad IPv6 range ${text}`);
  return { groups, bits: Number(bits) };
}

function inCidr4(addr: number, { base, bits }: Cidr4): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (addr & mask) >>> 0 === (base & mask) >>> 0;
}

function inCidr6(addr: IPv6Groups, { groups, bits }: Cidr6): boolean {
  for (let i = 0; i < 8 && bits > i * 16; i++) {
    const take = Math.min(16, bits - i * 16);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if (((addr[i] ?? 0) & mask) !== ((groups[i] ?? 0) & mask)) return false;
  }
  return true;
}
