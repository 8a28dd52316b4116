// RateLimit-Policy and RateLimit on generation responses: one policy per limit the caller is under —
// requests per minute and concurrent tasks, for the tenant and the user (written by
// src/http/rate-limit-fields.ts). Monthly credits are not a request quota; GET /v1/usage reports them.
import { RATE_WINDOW_MS } from "../config/constants";
import { type LimitField, rateLimitFields } from "../http/rate-limit-fields";
import { concurrencyRetryAfter, rateRetryAfter, type ScopeInput } from "./arithmetic";

function rateItem(s: ScopeInput, now: number): LimitField | null {
  const max = s.limits.requests_per_minute;
  if (max === undefined) return null;
  const { window } = s.state;
  const remaining = Math.max(0, max - window.count);
  // Seconds until the oldest admission in the window leaves it (the window length when it is empty).
  const reset =
    remaining === 0
      ? rateRetryAfter(window, max, now)
      : window.oldest === null
        ? RATE_WINDOW_MS / 1000
        : Math.max(1, Math.ceil((window.oldest + RATE_WINDOW_MS - now) / 1000));
  return { name: `${s.scope}-rpm`, quota: max, windowS: RATE_WINDOW_MS / 1000, remaining, resetS: reset };
}

function concurrencyItem(s: ScopeInput, now: number): LimitField | null {
  const max = s.limits.max_concurrent_tasks;
  if (max === undefined) return null;
  const remaining = Math.max(0, max - s.state.active);
  return {
    name: `${s.scope}-concurrency`,
    quota: max,
    unit: "concurrent-requests",
    remaining,
    ...(remaining === 0 ? { resetS: concurrencyRetryAfter(s.state.nextEndAt, now) } : {}),
  };
}

/** The two fields for the scopes' states, or no fields when no request limit applies. */
export function rateLimitHeaders(scopes: readonly ScopeInput[], now: number): Record<string, string> {
  return rateLimitFields(
    scopes.flatMap((s) => [rateItem(s, now), concurrencyItem(s, now)]).filter((i) => i !== null),
  );
}
