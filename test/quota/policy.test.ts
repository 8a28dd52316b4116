// The pure quota math: windows, UTC months, credit units, Retry-After, the admission decision, the RateLimit
// fields, the wire form of a refusal, and the operator's price overrides. The clock is always a parameter.
import { describe, expect, it } from "vitest";
import { WAN26_REFERENCE_VIDEO_FLASH } from "../../src/upstream/models";
import { rateLimitHeaders } from "../../src/quota/headers";
import {
  admitted,
  concurrencyRetryAfter,
  decide,
  EMPTY_STATE,
  fromUnits,
  rateRetryAfter,
  type ScopeInput,
  type ScopeState,
  toUnits,
  windowOf,
} from "../../src/quota/arithmetic";
import { monthOf, monthStart, nextMonthStart, parseMonth } from "../../src/util/month";
import { estimate, pricingFor } from "../../src/generations/pricing";
import { refusalError } from "../../src/quota/refusal";
import { scopeView } from "../../src/usage/view";

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0); // 2026-11-24T12:00:00Z
const state = (over: Partial<ScopeState> = {}): ScopeState => ({ ...EMPTY_STATE, ...over });

describe("calendar months (UTC)", () => {
  it("names and bounds the month of an instant in UTC, whatever the local zone", () => {
    expect(monthOf(T0)).toBe("2026-11");
    expect(monthStart(T0)).toBe(Date.UTC(2026, 10, 1));
    expect(nextMonthStart(T0)).toBe(Date.UTC(2026, 11, 1));
    // The last millisecond of a month and the first of the next.
    expect(monthOf(Date.UTC(2026, 11, 1) - 1)).toBe("2026-11");
    expect(monthOf(Date.UTC(2026, 11, 1))).toBe("2026-12");
  });

  it("rolls December into January and knows leap Februaries", () => {
    expect(nextMonthStart(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe(Date.UTC(2027, 0, 1));
    expect(nextMonthStart(Date.UTC(2028, 1, 29, 12))).toBe(Date.UTC(2028, 2, 1));
    expect(monthOf(Date.UTC(2028, 1, 29, 23, 59, 59))).toBe("2028-02");
  });

  it("parses YYYY-MM and nothing else", () => {
    expect(parseMonth("2026-11")).toBe(Date.UTC(2026, 10, 1));
    for (const bad of ["2026-13", "2026-00", "2026-1", "26-11", "2026-11-01", ""])
      expect(parseMonth(bad)).toBeNull();
  });
});

describe("credit units", () => {
  it("counts in exact integers, so many small charges sum to the limit exactly", () => {
    expect(toUnits(23.8)).toBe(238_000);
    expect(toUnits(3.9746)).toBe(39_746);
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += toUnits(23.8);
    expect(sum).toBe(toUnits(238));
    expect(fromUnits(sum)).toBe(238);
    // The floating-point sum of the same charges is not exact.
    expect(
      Array(10)
        .fill(23.8)
        .reduce((a, b) => a + b),
    ).not.toBe(238);
  });
});

describe("the rate window", () => {
  it("counts only admissions inside the 60 s window ending now, and knows the oldest", () => {
    expect(windowOf([T0 - 60_000, T0 - 59_999, T0 - 1, T0, T0 + 1], T0)).toEqual({
      count: 3,
      oldest: T0 - 59_999,
      freesSlot: null,
    });
    expect(windowOf([T0 - 10, T0 - 30], T0)).toEqual({ count: 2, oldest: T0 - 30, freesSlot: null });
  });

  it("over a limit, names the admission whose leaving brings the window under it", () => {
    const times = [T0 - 10, T0 - 30, T0 - 20];
    expect(windowOf(times, T0, 1).freesSlot).toBe(T0 - 10);
    expect(windowOf(times, T0, 2).freesSlot).toBe(T0 - 20);
    // At the limit exactly, that is the oldest.
    expect(windowOf(times, T0, 3).freesSlot).toBeNull();
  });

  it("announces the seconds until the oldest counted admission leaves the window", () => {
    const recent = [T0 - 50_000, T0 - 20_000, T0 - 1_000];
    const after = (max: number) => rateRetryAfter(windowOf(recent, T0, max), max, T0);
    expect(after(4)).toBe(0);
    expect(after(3)).toBe(10);
    // A lowered limit: two must leave before one more fits.
    expect(after(2)).toBe(40);
    expect(rateRetryAfter(windowOf([T0 - 59_500], T0, 1), 1, T0)).toBe(1);
  });
});

describe("concurrency Retry-After", () => {
  it("is the time to the first expected end, or a short fallback when every task is overdue", () => {
    expect(concurrencyRetryAfter(T0 + 42_100, T0)).toBe(43);
    expect(concurrencyRetryAfter(T0 - 1, T0)).toBe(5);
    expect(concurrencyRetryAfter(null, T0)).toBe(5);
    expect(concurrencyRetryAfter(T0 + 10 * 3600_000, T0)).toBe(3600);
  });
});

describe("decide", () => {
  const scope = (s: "tenant" | "user", limits: object, st: Partial<ScopeState> = {}): ScopeInput => ({
    scope: s,
    limits,
    state: state(st),
  });

  it("admits when no limit is set", () => {
    expect(decide([scope("tenant", {})], toUnits(1e9), T0)).toBeNull();
    expect(decide([], 1, T0)).toBeNull();
  });

  it("refuses at the limit, not before", () => {
    const nine = Array.from({ length: 9 }, (_, i) => T0 - i * 1000).reverse();
    const rpm10 = (times: number[]) => ({ window: windowOf(times, T0, 10) });
    expect(decide([scope("tenant", { requests_per_minute: 10 }, rpm10(nine))], 0, T0)).toBeNull();
    expect(decide([scope("tenant", { requests_per_minute: 10 }, rpm10([...nine, T0]))], 0, T0)).toMatchObject(
      { limit: "requests_per_minute", scope: "tenant", max: 10, retryAfterS: 52 },
    );
    expect(decide([scope("user", { max_concurrent_tasks: 2 }, { active: 1 })], 0, T0)).toBeNull();
    expect(decide([scope("user", { max_concurrent_tasks: 2 }, { active: 2 })], 0, T0)).toMatchObject({
      limit: "max_concurrent_tasks",
      scope: "user",
      max: 2,
      active: 2,
    });
  });

  it("lets a request use the last credit exactly, and refuses one unit more", () => {
    const s = { usedUnits: toUnits(50), reservedUnits: toUnits(26.2) };
    expect(decide([scope("tenant", { monthly_credits: 100 }, s)], toUnits(23.8), T0)).toBeNull();
    expect(decide([scope("tenant", { monthly_credits: 100 }, s)], toUnits(23.8) + 1, T0)).toEqual({
      limit: "monthly_credits",
      scope: "tenant",
      maxUnits: toUnits(100),
      usedUnits: toUnits(50),
      reservedUnits: toUnits(26.2),
      estimateUnits: toUnits(23.8) + 1,
      resetsAt: Date.UTC(2026, 11, 1),
    });
  });

  it("reports the rate before concurrency before credits, and the tenant before the user", () => {
    const full = { window: windowOf([T0 - 1], T0, 1), active: 1, usedUnits: toUnits(1) };
    const limits = { requests_per_minute: 1, max_concurrent_tasks: 1, monthly_credits: 1 };
    expect(decide([scope("tenant", limits, full), scope("user", limits, full)], 1, T0)).toMatchObject({
      limit: "requests_per_minute",
      scope: "tenant",
    });
    expect(
      decide([scope("tenant", { max_concurrent_tasks: 1 }, full), scope("user", limits, full)], 1, T0),
    ).toMatchObject({ limit: "requests_per_minute", scope: "user" });
    expect(
      decide(
        [scope("tenant", { monthly_credits: 1 }, full), scope("user", { max_concurrent_tasks: 1 }, full)],
        1,
        T0,
      ),
    ).toMatchObject({ limit: "max_concurrent_tasks", scope: "user" });
  });

  it("describes the state after an admission", () => {
    expect(admitted(state({ window: windowOf([T0 - 5], T0), active: 2, reservedUnits: 7 }), 3, T0)).toEqual(
      state({
        window: { count: 2, oldest: T0 - 5, freesSlot: null },
        active: 3,
        reservedUnits: 10,
        nextEndAt: T0 + 120_000,
      }),
    );
    expect(admitted(state(), 0, T0).window).toEqual({ count: 1, oldest: T0, freesSlot: null });
  });
});

describe("RateLimit-Policy and RateLimit fields", () => {
  it("lists a policy per request limit, with what remains and when it resets", () => {
    const h = rateLimitHeaders(
      [
        {
          scope: "tenant",
          limits: { requests_per_minute: 10, max_concurrent_tasks: 3, monthly_credits: 100 },
          state: state({ window: windowOf([T0 - 45_000, T0], T0, 10), active: 1 }),
        },
        {
          scope: "user",
          limits: { requests_per_minute: 2 },
          state: state({ window: windowOf([T0 - 45_000, T0], T0, 2) }),
        },
      ],
      T0,
    );
    expect(h["RateLimit-Policy"]).toBe(
      '"tenant-rpm";q=10;w=60, "tenant-concurrency";q=3;qu="concurrent-requests", "user-rpm";q=2;w=60',
    );
    expect(h.RateLimit).toBe('"tenant-rpm";r=8;t=15, "tenant-concurrency";r=2, "user-rpm";r=0;t=15');
  });

  it("gives the concurrency reset only when no slot is left, and nothing without request limits", () => {
    const h = rateLimitHeaders(
      [
        {
          scope: "user",
          limits: { max_concurrent_tasks: 1 },
          state: state({ active: 1, nextEndAt: T0 + 30_000 }),
        },
      ],
      T0,
    );
    expect(h.RateLimit).toBe('"user-concurrency";r=0;t=30');
    expect(
      rateLimitHeaders([{ scope: "tenant", limits: { monthly_credits: 5 }, state: state() }], T0),
    ).toEqual({});
  });
});

describe("refusals on the wire", () => {
  it("429s carry Retry-After; the 402 carries the figures", () => {
    const rate = refusalError(
      { limit: "requests_per_minute", scope: "user", max: 5, retryAfterS: 12 },
      { RateLimit: "x" },
    );
    expect(rate.status).toBe(429);
    expect(rate.code).toBe("rate_limit_exceeded");
    expect(rate.headers).toEqual({ RateLimit: "x", "Retry-After": "12" });
    const busy = refusalError({
      limit: "max_concurrent_tasks",
      scope: "tenant",
      max: 2,
      active: 2,
      retryAfterS: 7,
    });
    expect(busy.code).toBe("concurrency_limit_exceeded");
    expect(busy.headers["Retry-After"]).toBe("7");

    const credits = refusalError({
      limit: "monthly_credits",
      scope: "tenant",
      maxUnits: toUnits(100),
      usedUnits: toUnits(60),
      reservedUnits: toUnits(23.8),
      estimateUnits: toUnits(23.8),
      resetsAt: Date.UTC(2026, 11, 1),
    });
    expect(credits.status).toBe(402);
    expect(credits.toJSON().error).toMatchObject({
      code: "insufficient_quota",
      type: "insufficient_quota",
      details: {
        scope: "tenant",
        total_limit_credits: 100,
        used_credits: 60,
        reserved_credits: 23.8,
        remaining_credits: 16.2,
        estimated_credits: 23.8,
        reset_at: "2026-12-01T00:00:00.000Z",
        reset_timezone: "UTC",
      },
    });
  });
});

describe("the usage view", () => {
  it("shows null for an absent limit and what is left of the others", () => {
    const v = scopeView(
      { requests_per_minute: 5, monthly_credits: 100 },
      state({
        window: windowOf([T0 - 30_000], T0),
        active: 2,
        usedUnits: toUnits(40),
        reservedUnits: toUnits(23.8),
      }),
      T0,
    );
    expect(v).toEqual({
      requests_per_minute: { limit: 5, used: 1, remaining: 4, reset_at: new Date(T0 + 30_000).toISOString() },
      concurrent_tasks: { limit: null, active: 2, remaining: null, next_slot_in_seconds: null },
      monthly_credits: {
        limit: 100,
        month: "2026-11",
        used: 40,
        reserved: 23.8,
        remaining: 36.2,
        reset_at: "2026-12-01T00:00:00.000Z",
      },
    });
  });
});

describe("pricing overrides", () => {
  const request = { quality: "1080p" as const, duration: 10, generate_audio: false };

  it("defaults to the published prices (README §6)", () => {
    expect(
      estimate(WAN26_REFERENCE_VIDEO_FLASH, { quality: "720p", duration: 5, generate_audio: true }, {}),
    ).toBe(23.8);
    // (5 + 10) × 2.38 × 1.67 × 0.5 = 29.81 (half up), above the 9-credit minimum.
    expect(estimate(WAN26_REFERENCE_VIDEO_FLASH, request, {})).toBe(29.81);
    expect(
      estimate(WAN26_REFERENCE_VIDEO_FLASH, { quality: "720p", duration: 2, generate_audio: false }, {}),
    ).toBe(9);
  });

  it("applies an operator's override field by field, for its model only", () => {
    const overrides = {
      "wan2.6-reference-video-flash": { credits_per_second: 3, quality_factor: { "1080p": 2 } },
    };
    expect(pricingFor(WAN26_REFERENCE_VIDEO_FLASH, overrides)).toMatchObject({
      creditsPerSecond: 3,
      qualityFactor: { "720p": 1, "1080p": 2 },
      silentFactor: 0.5,
      minimumCredits: 9,
    });
    expect(estimate(WAN26_REFERENCE_VIDEO_FLASH, request, overrides)).toBe(45);
    expect(
      estimate(WAN26_REFERENCE_VIDEO_FLASH, request, { "other-model": { credits_per_second: 99 } }),
    ).toBe(29.81);
  });
});
