// The one set of rules for every URL the gateway calls or hands to the upstream: callback URLs, tenant
// webhook URLs, tenant `jwks_uri`, reference video URLs. Hosts are canonicalised by the WHATWG URL parser
// first, so every spelling of an address ("0x7f.1", "2130706433", "[::ffff:7f00:1]") is judged as one.
import { MAX_URL_LENGTH } from "../config/constants";
import { isForbiddenIPv4, isForbiddenIPv6, isLoopbackIPv4, isLoopbackIPv6, parseIPv4, parseIPv6 } from "./ip";

export interface OutboundUrlOptions {
  /** Only https is accepted (callbacks, webhooks, key sets). */
  requireHttps: boolean;
  /**
   * DEV_ALLOW_LOCAL_URLS: loopback hosts (localhost, 127.0.0.0/8, [::1]) become allowed, over http too.
   * Nothing else relaxes.
   */
  allowLocal: boolean;
  /** Longest accepted URL, in characters (default MAX_URL_LENGTH). */
  maxLength?: number;
  /**
   * An origin whose URLs skip the address rule (not the others): the gateway's own, for its signed file
   * URLs, which are checked by their signature instead.
   */
  ownOrigin?: string;
}

export type OutboundUrlResult = { ok: true; url: URL } | { ok: false; reason: string };

/** Special-use names (RFC 6761, RFC 8375, ICANN's .internal) that never name a public server. */
const FORBIDDEN_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa"];

/**
 * Checks a URL the gateway will call or forward. `reason` completes a sentence about the field,
 * e.g. "callback_url " + reason. On success `url.href` is the canonical form to use from then on.
 */
export function checkOutboundUrl(raw: string, opts: OutboundUrlOptions): OutboundUrlResult {
  const maxLength = opts.maxLength ?? MAX_URL_LENGTH;
  if (raw.length > maxLength) return fail(`must be at most ${maxLength} characters long`);
  // WHATWG parsing silently drops tabs/newlines and reads "\" as "/"; refuse rather than guess.
  if (/[\u0000-\u0020\u007f\\]/.test(raw)) {
    return fail("must not contain whitespace, control characters or backslashes");
  }
  if (!/^https?:\/\//i.test(raw)) {
    return fail(
      opts.requireHttps ? "must be an absolute https:// URL" : "must be an absolute http(s):// URL",
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail("is not a valid URL");
  }
  if (url.href.length > maxLength) return fail(`must be at most ${maxLength} characters long once encoded`);
  if (url.username || url.password) return fail("must not contain credentials (user:password@)");
  const local = opts.allowLocal && isLoopbackHost(url.hostname);
  if (opts.requireHttps && url.protocol !== "https:" && !local) return fail("must use https");
  const own = opts.ownOrigin !== undefined && url.origin === new URL(opts.ownOrigin).origin;
  if (!local && !own && isForbiddenHost(url.hostname)) {
    return fail("must not point at a loopback, private, link-local or reserved address");
  }
  return { ok: true, url };
}

/**
 * The rule for every URL the gateway itself calls — callback_url, webhook.url, jwks_uri — at admission and
 * again at fetch time: https to a public host; with DEV_ALLOW_LOCAL_URLS, loopback too, over http as well.
 */
export function checkGatewayUrl(raw: string, opts: { allowLocal: boolean }): OutboundUrlResult {
  return checkOutboundUrl(raw, { requireHttps: true, allowLocal: opts.allowLocal });
}

/**
 * The rule for `video_urls` (and an upload's `file_url`): http or https, no credentials, no private or
 * reserved hosts. The upstream fetches them, never the gateway, so no flag makes a local address reachable:
 * DEV_ALLOW_LOCAL_URLS does not apply. The one exception is `ownOrigin`, the gateway's PUBLIC_BASE_URL,
 * wherever the operator serves it (127.0.0.1 in local development): a URL there must instead be one of the
 * caller's signed file URLs (src/files/ownership.ts), which the caller of this function must then check.
 */
export function checkVideoUrl(raw: string, opts: { ownOrigin?: string } = {}): OutboundUrlResult {
  return checkOutboundUrl(raw, { requireHttps: false, allowLocal: false, ...opts });
}

/**
 * True when `hostname` (as in `URL.hostname`, or a bare host) must never be called: an address in a
 * forbidden range in any spelling, localhost and other special-use names, a single-label name, or
 * anything that does not parse as a host (fail closed).
 */
export function isForbiddenHost(hostname: string): boolean {
  const host = canonicalHost(hostname);
  if (host === undefined) return true;
  if (host.startsWith("[")) {
    const groups = parseIPv6(host.slice(1, -1));
    return groups === undefined || isForbiddenIPv6(groups);
  }
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return isForbiddenIPv4(v4);
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (!name.includes(".")) return true; // localhost, intranet names, "" (never resolvable publicly)
  return FORBIDDEN_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** True for the loopback hosts DEV_ALLOW_LOCAL_URLS permits: localhost, 127.0.0.0/8 and [::1]. */
export function isLoopbackHost(hostname: string): boolean {
  const host = canonicalHost(hostname);
  if (host === undefined) return false;
  if (host === "localhost" || host === "localhost.") return true;
  if (host.startsWith("[")) {
    const groups = parseIPv6(host.slice(1, -1));
    return groups !== undefined && isLoopbackIPv6(groups);
  }
  const v4 = parseIPv4(host);
  return v4 !== undefined && isLoopbackIPv4(v4);
}

/**
 * The host as the WHATWG parser spells it (lowercase, punycode, dotted-quad IPv4, bracketed
 * compressed IPv6), or undefined when it is not a host on its own (a port, path or userinfo in it).
 */
export function canonicalHost(hostname: string): string | undefined {
  if (hostname === "" || /[\s/\\?#@%]/.test(hostname)) return undefined;
  const bracketed = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  try {
    const url = new URL(`http://${bracketed}/`);
    return url.port === "" && url.pathname === "/" ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

/** True when two hostnames name one host: compared in canonical spelling, a trailing dot ignored. */
export function sameHost(a: string, b: string): boolean {
  const x = canonicalHost(a);
  const y = canonicalHost(b);
  if (x === undefined || y === undefined) return false;
  return x.replace(/\.$/, "") === y.replace(/\.$/, "");
}

function fail(reason: string): OutboundUrlResult {
  return { ok: false, reason };
}
