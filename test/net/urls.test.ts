// The outbound URL rules, run through workerd's own WHATWG URL parser: every spelling of a forbidden
// address must be refused, public hosts must pass, and DEV_ALLOW_LOCAL_URLS must relax loopback only.
import { describe, expect, it } from "vitest";
import {
  canonicalHost,
  checkOutboundUrl,
  checkVideoUrl,
  isForbiddenHost,
  isLoopbackHost,
  type OutboundUrlOptions,
  sameHost,
} from "../../src/net/urls";

const https = { requireHttps: true, allowLocal: false };
const dev = { requireHttps: true, allowLocal: true };

function reason(raw: string, opts: OutboundUrlOptions = https): string | undefined {
  const r = checkOutboundUrl(raw, opts);
  return r.ok ? undefined : r.reason;
}

const FORBIDDEN = "must not point at a loopback, private, link-local or reserved address";

describe("forbidden hosts in every spelling", () => {
  it.each([
    // IPv4 loopback, however written
    ["https://127.0.0.1/", "127.0.0.1"],
    ["https://2130706433/", "127.0.0.1"],
    ["https://0x7f000001/", "127.0.0.1"],
    ["https://0x7f.1/", "127.0.0.1"],
    ["https://0177.0.0.1/", "127.0.0.1"],
    ["https://0177.1/", "127.0.0.1"],
    ["https://127.1/", "127.0.0.1"],
    ["https://127.0.1/", "127.0.0.1"],
    ["https://127.0.0.1./", "127.0.0.1"],
    ["https://127.0.0.1%2e/", "127.0.0.1"],
    ["https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "127.0.0.1"], // full-width digits
    ["https://127.255.255.254/", "127.255.255.254"],
    // other IPv4 ranges
    ["https://0/", "0.0.0.0"],
    ["https://0.0.0.0/", "0.0.0.0"],
    ["https://10.1.2.3/", "10.1.2.3"],
    ["https://012.1.2.3/", "10.1.2.3"],
    ["https://167772161/", "10.0.0.1"],
    ["https://100.64.0.1/", "100.64.0.1"],
    ["https://100.127.255.255/", "100.127.255.255"],
    ["https://169.254.169.254/", "169.254.169.254"],
    ["https://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"],
    ["https://172.16.0.1/", "172.16.0.1"],
    ["https://172.31.255.255/", "172.31.255.255"],
    ["https://192.0.0.8/", "192.0.0.8"],
    ["https://192.0.2.1/", "192.0.2.1"],
    ["https://192.168.1.1/", "192.168.1.1"],
    ["https://3232235777/", "192.168.1.1"],
    ["https://198.18.0.1/", "198.18.0.1"],
    ["https://198.19.255.255/", "198.19.255.255"],
    ["https://198.51.100.7/", "198.51.100.7"],
    ["https://203.0.113.9/", "203.0.113.9"],
    ["https://224.0.0.1/", "224.0.0.1"],
    ["https://239.255.255.250/", "239.255.255.250"],
    ["https://240.0.0.1/", "240.0.0.1"],
    ["https://255.255.255.255/", "255.255.255.255"],
    ["https://4294967295/", "255.255.255.255"],
    // IPv6
    ["https://[::1]/", "[::1]"],
    ["https://[0:0:0:0:0:0:0:1]/", "[::1]"],
    ["https://[::]/", "[::]"],
    ["https://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
    ["https://[::ffff:7f00:1]/", "[::ffff:7f00:1]"],
    ["https://[::ffff:10.0.0.1]/", "[::ffff:a00:1]"],
    ["https://[::ffff:169.254.169.254]/", "[::ffff:a9fe:a9fe]"],
    ["https://[::127.0.0.1]/", "[::7f00:1]"],
    ["https://[::ffff:0:127.0.0.1]/", "[::ffff:0:7f00:1]"],
    ["https://[64:ff9b::10.0.0.1]/", "[64:ff9b::a00:1]"],
    ["https://[64:ff9b::7f00:1]/", "[64:ff9b::7f00:1]"],
    ["https://[64:ff9b:1::1]/", "[64:ff9b:1::1]"],
    ["https://[2002:7f00:1::1]/", "[2002:7f00:1::1]"],
    ["https://[2002:c0a8:101::]/", "[2002:c0a8:101::]"],
    ["https://[fc00::1]/", "[fc00::1]"],
    ["https://[fd12:3456:789a::1]/", "[fd12:3456:789a::1]"],
    ["https://[fe80::1]/", "[fe80::1]"],
    ["https://[febf:ffff::1]/", "[febf:ffff::1]"],
    ["https://[fec0::1]/", "[fec0::1]"],
    ["https://[ff02::1]/", "[ff02::1]"],
    ["https://[2001:db8::1]/", "[2001:db8::1]"],
    ["https://[100::1]/", "[100::1]"],
    // names
    ["https://localhost/", "localhost"],
    ["https://LOCALHOST/", "localhost"],
    ["https://localhost./", "localhost."],
    ["https://api.localhost/", "api.localhost"],
    ["https://api.localhost./", "api.localhost."],
    ["https://printer.local/", "printer.local"],
    ["https://metadata.google.internal/", "metadata.google.internal"],
    ["https://router.home.arpa/", "router.home.arpa"],
    ["https://intranet/", "intranet"],
  ])("%s (host %s) is refused", (raw, host) => {
    expect(new URL(raw).hostname).toBe(host);
    expect(isForbiddenHost(new URL(raw).hostname)).toBe(true);
    expect(reason(raw)).toBe(FORBIDDEN);
    expect(checkVideoUrl(raw.replace("https:", "http:"))).toEqual({
      ok: false,
      reason: FORBIDDEN,
    });
  });

  it.each([
    "127.0.0.1",
    "0x7f.1",
    "0177.0.0.1",
    "2130706433",
    "127.1",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
    "[::ffff:7f00:1]",
    "64:ff9b::192.168.0.1",
    "localhost",
    "localhost.",
    "LocalHost",
    "x.localhost",
  ])("isForbiddenHost(%s) canonicalises a raw host itself", (host) => {
    expect(isForbiddenHost(host)).toBe(true);
  });

  it.each([
    "",
    "example.com:443",
    "user@example.com",
    "example.com/path",
    "ex ample.com",
    "[::1",
    "256.1.1.1",
    "1.2.3.4.5",
  ])("isForbiddenHost(%j) fails closed on something that is not a host", (host) => {
    expect(isForbiddenHost(host)).toBe(true);
  });
});

describe("public hosts pass", () => {
  it.each([
    ["https://hooks.example.com/video/done?x=1", "https://hooks.example.com/video/done?x=1"],
    ["https://EXAMPLE.com", "https://example.com/"],
    ["https://example.com./cb", "https://example.com./cb"],
    ["https://8.8.8.8/", "https://8.8.8.8/"],
    ["https://134744072/", "https://8.8.8.8/"],
    ["https://100.63.255.255/", "https://100.63.255.255/"],
    ["https://100.128.0.0/", "https://100.128.0.0/"],
    ["https://172.15.255.255/", "https://172.15.255.255/"],
    ["https://172.32.0.0/", "https://172.32.0.0/"],
    ["https://198.20.0.1/", "https://198.20.0.1/"],
    ["https://223.255.255.255/", "https://223.255.255.255/"],
    ["https://[2606:4700:4700::1111]/", "https://[2606:4700:4700::1111]/"],
    ["https://[::ffff:8.8.8.8]/", "https://[::ffff:808:808]/"],
    ["https://[64:ff9b::8.8.8.8]/", "https://[64:ff9b::808:808]/"],
    ["https://münchen.example/", "https://xn--mnchen-3ya.example/"],
    ["https://example.com:8443/a", "https://example.com:8443/a"],
    ["https://localhost.example.com/", "https://localhost.example.com/"],
  ])("%s is accepted as %s", (raw, href) => {
    const r = checkOutboundUrl(raw, https);
    expect(r.ok && r.url.href).toBe(href);
  });
});

describe("URL shape rules", () => {
  it("requires https for callbacks but allows http for video URLs", () => {
    expect(reason("http://example.com/cb")).toBe("must use https");
    expect(checkVideoUrl("http://cdn.example.com/a.mp4").ok).toBe(true);
    expect(checkVideoUrl("HTTPS://cdn.example.com/a.mp4").ok).toBe(true);
  });

  it.each([
    "ftp://example.com/a.mp4",
    "file:///etc/passwd",
    "data:video/mp4;base64,AAAA",
    "javascript:alert(1)",
  ])("refuses the scheme of %s", (raw) => {
    expect(reason(raw)).toBe("must be an absolute https:// URL");
    expect(checkVideoUrl(raw)).toEqual({
      ok: false,
      reason: "must be an absolute http(s):// URL",
    });
  });

  it.each([
    "/relative/path",
    "example.com/cb",
    "https:example.com",
    "https:/example.com",
    "//example.com/cb",
  ])("refuses the non-absolute %s", (raw) => {
    expect(reason(raw)).toBe("must be an absolute https:// URL");
  });

  it.each([
    "https://",
    "https://exa mple.com",
    "https://[::1/",
    "https://256.0.0.1/",
    "https://example.com:99999/",
  ])("refuses the unparseable %s", (raw) => {
    expect(reason(raw)).toMatch(/^(is not a valid URL|must not contain whitespace)/);
  });

  it.each([
    "https://user:pass@example.com/",
    "https://user@example.com/",
    "https://:pass@example.com/",
    "https://user:pass@127.0.0.1/",
  ])("refuses credentials in %s", (raw) => {
    expect(reason(raw)).toBe("must not contain credentials (user:password@)");
  });

  it.each([
    " https://example.com/",
    "https://example.com/a\tb",
    "https://exam\nple.com/",
    "https://example.com\\@evil.com/",
    "https://example.com/\u0000",
  ])("refuses whitespace, control characters and backslashes in %j", (raw) => {
    expect(reason(raw)).toBe("must not contain whitespace, control characters or backslashes");
  });

  it("limits length to 2048 characters, before and after encoding", () => {
    const base = "https://example.com/";
    expect(reason(base + "a".repeat(2048 - base.length))).toBeUndefined();
    expect(reason(base + "a".repeat(2049 - base.length))).toBe("must be at most 2048 characters long");
    expect(reason(base + "é".repeat(2000))).toBe("must be at most 2048 characters long once encoded");
    expect(reason(base + "a".repeat(100), { ...https, maxLength: 50 })).toBe(
      "must be at most 50 characters long",
    );
  });
});

describe("DEV_ALLOW_LOCAL_URLS relaxes loopback only", () => {
  it.each([
    "http://localhost:8787/cb",
    "http://127.0.0.1:9000/",
    "http://127.9.9.9/",
    "http://[::1]:8080/",
    "https://localhost/",
    "http://localhost./",
  ])("%s is allowed for URLs the gateway calls, over http too; never as a video URL", (raw) => {
    expect(checkOutboundUrl(raw, dev).ok).toBe(true);
    // Never for video_urls: the upstream fetches those, and it cannot reach the operator's loopback.
    expect(checkVideoUrl(raw).ok).toBe(false);
    expect(checkOutboundUrl(raw, https).ok).toBe(false);
  });

  it.each([
    ["https://10.0.0.1/", FORBIDDEN],
    ["https://192.168.1.1/", FORBIDDEN],
    ["https://169.254.169.254/", FORBIDDEN],
    ["https://[fe80::1]/", FORBIDDEN],
    ["https://[::ffff:127.0.0.1]/", FORBIDDEN],
    ["https://api.localhost/", FORBIDDEN],
    ["https://intranet/", FORBIDDEN],
    ["http://example.com/", "must use https"],
    ["http://user:pw@localhost/", "must not contain credentials (user:password@)"],
  ])("%s stays refused", (raw, why) => {
    expect(reason(raw, dev)).toBe(why);
  });

  it("recognises loopback hosts", () => {
    for (const h of ["localhost", "localhost.", "127.0.0.1", "127.1", "0x7f.1", "[::1]", "::1"]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ["api.localhost", "10.0.0.1", "[::ffff:7f00:1]", "example.com", "", "128.0.0.1"]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe("canonicalHost", () => {
  it("spells hosts the way URL.hostname does", () => {
    expect(canonicalHost("Hooks.Example.COM")).toBe("hooks.example.com");
    expect(canonicalHost("0x7f.1")).toBe("127.0.0.1");
    expect(canonicalHost("::ffff:127.0.0.1")).toBe("[::ffff:7f00:1]");
    expect(canonicalHost("bücher.example")).toBe("xn--bcher-kva.example");
    expect(canonicalHost("example.com:80")).toBeUndefined();
    expect(canonicalHost("a/b")).toBeUndefined();
  });
});

describe("sameHost", () => {
  it("compares canonical spellings, a trailing dot ignored", () => {
    for (const [a, b] of [
      ["gw.example.com", "GW.Example.com."],
      ["127.0.0.1", "0x7f.1"],
      ["[::1]", "::1"],
      ["bücher.example", "xn--bcher-kva.example"],
    ])
      expect(sameHost(a!, b!), `${a} ${b}`).toBe(true);
    for (const [a, b] of [
      ["gw.example.com", "api.gw.example.com"],
      ["127.0.0.1", "127.0.0.2"],
      ["gw.example.com", "gw.example.com:443"],
      ["", ""],
    ])
      expect(sameHost(a!, b!), `${a} ${b}`).toBe(false);
  });
});

describe("checkVideoUrl with the gateway's own origin", () => {
  const ownOrigin = "http://127.0.0.1:8787";

  it("lets URLs on exactly that origin past the address rule, and only those", () => {
    expect(checkVideoUrl("http://127.0.0.1:8787/files/a.b/c.mp4", { ownOrigin }).ok).toBe(true);
    expect(checkVideoUrl("http://0x7f.1:8787/files/a.b/c.mp4", { ownOrigin }).ok).toBe(true);
    const forbidden = {
      ok: false,
      reason: "must not point at a loopback, private, link-local or reserved address",
    };
    expect(checkVideoUrl("http://127.0.0.1:8787/files/a.b/c.mp4")).toEqual(forbidden);
    for (const raw of [
      "http://127.0.0.1:9999/files/a.b/c.mp4",
      "https://127.0.0.1:8787/files/a.b/c.mp4",
      "http://localhost:8787/files/a.b/c.mp4",
      "http://10.0.0.1/a.mp4",
    ])
      expect(checkVideoUrl(raw, { ownOrigin }), raw).toEqual(forbidden);
  });

  it("keeps every other rule on that origin", () => {
    expect(checkVideoUrl("http://user:pw@127.0.0.1:8787/files/a.b/c.mp4", { ownOrigin }).ok).toBe(false);
    expect(checkVideoUrl("http://127.0.0.1:8787/files/a b/c.mp4", { ownOrigin }).ok).toBe(false);
  });
});
