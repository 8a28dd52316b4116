// Host patterns, as a tenant's policy lists its allowed callback hosts: an exact host, a "*." wildcard, or
// "*" alone for any host (a tenant that says so), compared in the WHATWG parser's canonical spelling. They sit with the other host rules (urls.ts), so the
// tenant schema (which validates patterns) and the request policy (which matches them) both depend on net/,
// not on each other.
import { canonicalHost } from "./urls";

/** The pattern that matches every host: a tenant's explicit choice to accept callbacks anywhere. */
export const ANY_HOST = "*";

/**
 * True when `hostname` matches one of `patterns`: an exact host ("hooks.example.com"), a wildcard
 * ("*.example.com") that matches subdomains at any depth but not "example.com" itself, or ANY_HOST.
 */
export function callbackHostAllowed(hostname: string, patterns: readonly string[]): boolean {
  const host = comparable(hostname);
  if (host === undefined) return false;
  return patterns.some((pattern) => {
    if (pattern === ANY_HOST) return true;
    const wildcard = pattern.startsWith("*.");
    const base = comparable(wildcard ? pattern.slice(2) : pattern);
    if (base === undefined) return false;
    return wildcard ? host.endsWith(`.${base}`) : host === base;
  });
}

/** True when `pattern` is a host, a "*." wildcard host or ANY_HOST: what `callbackHostAllowed` can match. */
export function isCallbackHostPattern(pattern: string): boolean {
  if (pattern === ANY_HOST) return true;
  return comparable(pattern.startsWith("*.") ? pattern.slice(2) : pattern) !== undefined;
}

/** Canonical host without a trailing dot, so "Hooks.Example.com." matches "hooks.example.com". */
function comparable(host: string): string | undefined {
  const canonical = canonicalHost(host);
  if (canonical === undefined || canonical.includes("*")) return undefined;
  return canonical.endsWith(".") ? canonical.slice(0, -1) : canonical;
}
