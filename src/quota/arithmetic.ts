// Quota arithmetic as plain functions over plain data, with the clock passed in: the rate window, credit
// units, Retry-After and the admission decision (calendar months are src/util/month.ts). The tenant's
// object describes a scope as a `ScopeState`; this file alone decides what that state allows.
import {
  CONCURRENCY_RETRY_FALLBACK_S,
  CREDIT_UNITS,
  DEFAULT_TASK_SECONDS,
  MAX_QUOTA_RETRY_AFTER_S,
  RATE_WINDOW_MS,
} from "../config/constants";
import type { QuotaLimits } from "../tenants/schema";
import { nextMonthStart } from "../util/month";

export type Scope = "tenant" | "user";
export type LimitName = "requests_per_minute" | "max_concurrent_tasks" | "monthly_credits";

/**
 * A scope's rate window ending at `now` (the admissions of the RATE_WINDOW_MS before it), as the few figures
 * that decisions and reports use — so a store never has to list it.
 */
export interface RateWindow {
  /** Admissions in the window. A store checking a limit may stop counting at limit + 1. */
  count: number;
  /** The oldest of them (epoch ms), the first to leave; null when there are none. */
  oldest: number | null;
  /**
   * When `count` is over the limit the store checked: the limit-th newest admission, whose leaving brings
   * the window under the limit. Null otherwise (at the limit exactly, that admission is `oldest`).
   */
  freesSlot: number | null;
}

/** What a store knows about one scope (the tenant, or one of its users) at `now`. */
export interface ScopeState {
  window: RateWindow;
  /** Tasks admitted and not yet ended. */
  active: number;
  /** When the first of the active tasks is expected to end (epoch ms), if known. */
  nextEndAt: number | null;
  /** Credit units (see `toUnits`) settled and still reserved this calendar month. */
  usedUnits: number;
  reservedUnits: number;
}

export interface ScopeInput {
  scope: Scope;
  limits: QuotaLimits;
  state: ScopeState;
}

export type Refusal =
  | { limit: "requests_per_minute"; scope: Scope; max: number; retryAfterS: number }
  | { limit: "max_concurrent_tasks"; scope: Scope; max: number; active: number; retryAfterS: number }
  | {
      limit: "monthly_credits";
      scope: Scope;
      maxUnits: number;
      usedUnits: number;
      reservedUnits: number;
      estimateUnits: number;
      resetsAt: number;
    };

export const EMPTY_WINDOW: RateWindow = { count: 0, oldest: null, freesSlot: null };

export const EMPTY_STATE: ScopeState = {
  window: EMPTY_WINDOW,
  active: 0,
  nextEndAt: null,
  usedUnits: 0,
  reservedUnits: 0,
};

/** Credits are counted in integer units of 1/CREDIT_UNITS, so sums and comparisons are exact. */
export function toUnits(credits: number): number {
  return Math.round(credits * CREDIT_UNITS);
}

export function fromUnits(units: number): number {
  return units / CREDIT_UNITS;
}

function clampSeconds(ms: number): number {
  return Math.min(MAX_QUOTA_RETRY_AFTER_S, Math.max(1, Math.ceil(ms / 1000)));
}

/** Seconds until the window holds fewer than `max` admissions (0 when it already does). */
export function rateRetryAfter(window: RateWindow, max: number, now: number): number {
  if (window.count < max) return 0;
  // Once the (count - max + 1) oldest have left the window, max - 1 remain: the max-th newest is the last
  // of those to leave (the oldest itself when count = max).
  const holder = (window.count > max ? window.freesSlot : null) ?? window.oldest ?? now;
  return clampSeconds(holder + RATE_WINDOW_MS - now);
}

/** Seconds until a concurrency slot is expected to free: the first expected end among active tasks. */
export function concurrencyRetryAfter(nextEndAt: number | null, now: number): number {
  if (nextEndAt === null || nextEndAt <= now) return CONCURRENCY_RETRY_FALLBACK_S;
  return clampSeconds(nextEndAt - now);
}

function rateRefusal(s: ScopeInput, _estimate: number, now: number): Refusal | null {
  const max = s.limits.requests_per_minute;
  if (max === undefined || s.state.window.count < max) return null;
  return {
    limit: "requests_per_minute",
    scope: s.scope,
    max,
    retryAfterS: rateRetryAfter(s.state.window, max, now),
  };
}

function concurrencyRefusal(s: ScopeInput, _estimate: number, now: number): Refusal | null {
  const max = s.limits.max_concurrent_tasks;
  if (max === undefined || s.state.active < max) return null;
  return {
    limit: "max_concurrent_tasks",
    scope: s.scope,
    max,
    active: s.state.active,
    retryAfterS: concurrencyRetryAfter(s.state.nextEndAt, now),
  };
}

function creditRefusal(s: ScopeInput, estimateUnits: number, now: number): Refusal | null {
  const limit = s.limits.monthly_credits;
  if (limit === undefined) return null;
  const maxUnits = toUnits(limit);
  const { usedUnits, reservedUnits } = s.state;
  if (usedUnits + reservedUnits + estimateUnits <= maxUnits) return null;
  return {
    limit: "monthly_credits",
    scope: s.scope,
    maxUnits,
    usedUnits,
    reservedUnits,
    estimateUnits,
    resetsAt: nextMonthStart(now),
  };
}

/**
 * The first limit a new request of `estimateUnits` would break, or null when it fits them all. Checked
 * in this order: requests per minute, concurrency, monthly credits; within each, tenant before user.
 */
export function decide(scopes: readonly ScopeInput[], estimateUnits: number, now: number): Refusal | null {
  for (const check of [rateRefusal, concurrencyRefusal, creditRefusal]) {
    for (const s of scopes) {
      const refusal = check(s, estimateUnits, now);
      if (refusal) return refusal;
    }
  }
  return null;
}

/**
 * The scope's state once a request of `estimateUnits` has been admitted at `now` (the new task is expected
 * to run DEFAULT_TASK_SECONDS until the upstream says otherwise). A request is admitted only under the
 * scope's rate limit, so the window is at most at the limit afterwards: no `freesSlot`.
 */
export function admitted(state: ScopeState, estimateUnits: number, now: number): ScopeState {
  const ends = now + DEFAULT_TASK_SECONDS * 1000;
  const { count, oldest } = state.window;
  return {
    ...state,
    window: { count: count + 1, oldest: oldest ?? now, freesSlot: null },
    active: state.active + 1,
    nextEndAt: state.nextEndAt === null ? ends : Math.min(state.nextEndAt, ends),
    reservedUnits: state.reservedUnits + estimateUnits,
  };
}

/** The window ending at `now` over a list of admission times, for a scope limited to `limit` per minute. */
export function windowOf(times: readonly number[], now: number, limit?: number): RateWindow {
  const inside = times.filter((t) => t > now - RATE_WINDOW_MS && t <= now).sort((a, b) => a - b);
  const over = limit !== undefined && inside.length > limit;
  return {
    count: inside.length,
    oldest: inside[0] ?? null,
    freesSlot: over ? inside[inside.length - limit]! : null,
  };
}
