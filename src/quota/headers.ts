// RateLimit-Policy and RateLimit response fields (IETF httpapi ratelimit-headers draft, structured-field
// lists): one policy per limit the caller is under — requests per minute and concurrent tasks, for the
// tenant and the user. Monthly credits are not a request quota; they are reported by GET /v1/usage.
import { RATE_WINDOW_MS } from "../config/constants";
import { concurrencyRetryAfter, rateRetryAfter, type ScopeInput } from "./arithmetic";

interface Item {
  policy: string;
  rateLimit: string;
}

function rateItem(s: ScopeInput, now: number): Item | null {
  const max = s.limits.requests_per_minute;
  if (max === undefined) return null;
  const name = `"${s.scope}-rpm"`;
  const { window } = s.state;
  const remaining = Math.max(0, max - window.count);
  // Seconds until the oldest admission in the window leaves it (the window length when it is empty).
  const reset =
    remaining === 0
      ? rateRetryAfter(window, max, now)
      : window.oldest === null
        ? RATE_WINDOW_MS / 1000
        : Math.max(1, Math.ceil((window.oldest + RATE_WINDOW_MS - now) / 1000));
  return {
    policy: `${name};q=${max};w=${RATE_WINDOW_MS / 1000}`,
    rateLimit: `${name};r=${remaining};t=${reset}`,
  };
}

function concurrencyItem(s: ScopeInput, now: number): Item | null {
  const max = s.limits.max_concurrent_tasks;
  if (max === undefined) return null;
  const name = `"${s.scope}-concurrency"`;
  const remaining = Math.max(0, max - s.state.active);
  const reset = remaining === 0 ? `;t=${concurrencyRetryAfter(s.state.nextEndAt, now)}` : "";
  return {
    policy: `${name};q=${max};qu="concurrent-requests"`,
    rateLimit: `${name};r=${remaining}${reset}`,
  };
}

/** The two fields for the scopes' states, or no fields when no request limit applies. */
export function rateLimitHeaders(scopes: readonly ScopeInput[], now: number): Record<string, string> {
  const items = scopes
    .flatMap((s) => [rateItem(s, now), concurrencyItem(s, now)])
    .filter((i): i is Item => i !== null);
  if (items.length === 0) return {};
  return {
    "RateLimit-Policy": items.map((i) => i.policy).join(", "),
    RateLimit: items.map((i) => i.rateLimit).join(", "),
  };
}
