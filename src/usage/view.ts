// What GET /v1/usage shows of one scope: each limit with what is used, held and left, and when it
// resets. An absent limit is shown as `null` (unlimited). Pure: the state and the clock come in.
import { RATE_WINDOW_MS } from "../config/constants";
import type { QuotaLimits } from "../tenants/schema";
import { concurrencyRetryAfter, fromUnits, type ScopeState, toUnits } from "../quota/arithmetic";
import { monthOf, nextMonthStart } from "../util/month";

const iso = (ms: number) => new Date(ms).toISOString();

export function scopeView(limits: QuotaLimits, state: ScopeState, now: number): Record<string, unknown> {
  const rpm = limits.requests_per_minute ?? null;
  const concurrent = limits.max_concurrent_tasks ?? null;
  const credits = limits.monthly_credits ?? null;
  const used = fromUnits(state.usedUnits);
  const reserved = fromUnits(state.reservedUnits);
  const { count, oldest } = state.window;
  return {
    requests_per_minute: {
      limit: rpm,
      used: count,
      remaining: rpm === null ? null : Math.max(0, rpm - count),
      // The moment the oldest request in the window stops counting.
      reset_at: oldest === null ? null : iso(oldest + RATE_WINDOW_MS),
    },
    concurrent_tasks: {
      limit: concurrent,
      active: state.active,
      remaining: concurrent === null ? null : Math.max(0, concurrent - state.active),
      next_slot_in_seconds:
        concurrent !== null && state.active >= concurrent
          ? concurrencyRetryAfter(state.nextEndAt, now)
          : null,
    },
    monthly_credits: {
      limit: credits,
      month: monthOf(now),
      used,
      reserved,
      remaining:
        credits === null
          ? null
          : fromUnits(Math.max(0, toUnits(credits) - state.usedUnits - state.reservedUnits)),
      reset_at: iso(nextMonthStart(now)),
    },
  };
}
