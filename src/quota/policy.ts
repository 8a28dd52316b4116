// Quota math as plain functions over plain data, with the clock passed in: the rate window, calendar
// months (UTC), credit units, Retry-After and the admission decision. Both stores (the tenant's Durable
// Object and KV) describe a scope as a `ScopeState`; this file alone decides what that state allows.
import {
  CONCURRENCY_RETRY_FALLBACK_S,
  CREDIT_UNITS,
  DEFAULT_TASK_SECONDS,
  MAX_QUOTA_RETRY_AFTER_S,
  RATE_WINDOW_MS,
} from "../config/constants";
import type { QuotaLimits } from "../tenants/schema";

export type Scope = "tenant" | "user";
export type LimitName = "requests_per_minute" | "max_concurrent_tasks" | "monthly_credits";

/** What a store knows about one scope (the tenant, or one of its users) at `now`. */
export interface ScopeState {
  /** Admission times (epoch ms) inside the rate window that ends at `now`, oldest first. */
  recent: number[];
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

export const EMPTY_STATE: ScopeState = {
  recent: [],
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

/** `YYYY-MM` of the calendar month (UTC) holding `ms`. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Epoch ms of the start of `YYYY-MM`, or null when it is not a month. */
export function parseMonth(month: string): number | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, 1) : null;
}

function clampSeconds(ms: number): number {
  return Math.min(MAX_QUOTA_RETRY_AFTER_S, Math.max(1, Math.ceil(ms / 1000)));
}

/** Seconds until the window holds fewer than `max` admissions (0 when it already does). */
export function rateRetryAfter(recent: readonly number[], max: number, now: number): number {
  if (recent.length < max) return 0;
  // Once the (n - max + 1) oldest have left the window, max - 1 remain.
  const frees = recent[recent.length - max]! + RATE_WINDOW_MS;
  return clampSeconds(frees - now);
}

/** Seconds until a concurrency slot is expected to free: the first expected end among active tasks. */
export function concurrencyRetryAfter(nextEndAt: number | null, now: number): number {
  if (nextEndAt === null || nextEndAt <= now) return CONCURRENCY_RETRY_FALLBACK_S;
  return clampSeconds(nextEndAt - now);
}

function rateRefusal(s: ScopeInput, _estimate: number, now: number): Refusal | null {
  const max = s.limits.requests_per_minute;
  if (max === undefined || s.state.recent.length < max) return null;
  return {
    limit: "requests_per_minute",
    scope: s.scope,
    max,
    retryAfterS: rateRetryAfter(s.state.recent, max, now),
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
 * to run DEFAULT_TASK_SECONDS until the upstream says otherwise).
 */
export function admitted(state: ScopeState, estimateUnits: number, now: number): ScopeState {
  const ends = now + DEFAULT_TASK_SECONDS * 1000;
  return {
    ...state,
    recent: [...state.recent, now],
    active: state.active + 1,
    nextEndAt: state.nextEndAt === null ? ends : Math.min(state.nextEndAt, ends),
    reservedUnits: state.reservedUnits + estimateUnits,
  };
}

/** Drops admissions that have left the window ending at `now`. */
export function inWindow(times: readonly number[], now: number): number[] {
  return times.filter((t) => t > now - RATE_WINDOW_MS && t <= now).sort((a, b) => a - b);
}
