// Operator configuration, parsed from wrangler vars and secrets with zod once per isolate.
// A missing or malformed setting fails every request with a 503 that names the setting, never its value.
import * as z from "./zod";
import { type PricingOverrides, PricingOverridesSchema } from "./pricing";
import {
  DEFAULT_SWEEP_MIN_AGE_S,
  DEFAULT_TASK_POLL_CACHE_MS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  QUEUE_MAX_DELAY_SECONDS,
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_MAX_RESULT_RETENTION_DAYS,
  DEFAULT_EVENTS_POLL_MS,
  DEFAULT_EVENTS_IDLE_MS,
  DEFAULT_UPSTREAM_CREDITS_CHECK_S,
  DEFAULT_WEBHOOK_DISABLE_AFTER_HOURS,
} from "./constants";

const httpUrl = z.pipe(
  z.string().check(
    z.trim(),
    z.refine((v: string) => {
      try {
        const u = new URL(v);
        return (u.protocol === "https:" || u.protocol === "http:") && !u.username && !u.password;
      } catch {
        return false;
      }
    }, "must be an absolute http(s) URL without credentials"),
  ),
  z.transform((v: string) => v.replace(/\/+$/, "")),
);

const bool = z.pipe(
  z.optional(z.enum(["true", "false", "1", "0", ""])),
  z.transform((v) => v === "true" || v === "1"),
);

const nonNegativeInt = (fallback: number) =>
  z.pipe(
    z.optional(z.string().check(z.regex(/^\d+$/, "must be a whole number"))),
    z.transform((v) => (v === undefined ? fallback : Number(v))),
  );

const positiveInt = (fallback: number) =>
  nonNegativeInt(fallback).check(z.refine((n: number) => n > 0, "must be positive"));

/** A positive decimal number (fractions allowed). */
const positiveNumber = (fallback: number) =>
  z
    .pipe(
      z.optional(z.string().check(z.regex(/^\d+(\.\d+)?$/, "must be a positive number"))),
      z.transform((v) => (v === undefined ? fallback : Number(v))),
    )
    .check(z.refine((n: number) => n > 0, "must be a positive number"));

/** Comma-separated whole seconds, each within what a queue retry accepts (the webhook retry schedule). */
const delaySchedule = z
  .pipe(
    z
      .pipe(
        z.optional(z.string()),
        z.transform((v) => v ?? DEFAULT_WEBHOOK_RETRY_SCHEDULE),
      )
      .check(
        z.refine(
          (v: string) => /^\s*\d+(\s*,\s*\d+){0,99}\s*$/.test(v),
          "must be 1 to 100 comma-separated whole numbers of seconds",
        ),
      ),
    z.transform((v: string) => v.split(",").map((s) => Number(s.trim()))),
  )
  .check(
    z.refine(
      (a: number[]) => a.every((n) => n <= QUEUE_MAX_DELAY_SECONDS),
      `entries must be at most ${QUEUE_MAX_DELAY_SECONDS}`,
    ),
  );

/** JSON of per-model price overrides (src/config/pricing.ts, applied by src/generations/pricing.ts); absent means the registry's prices. */
const pricingOverrides = z.pipe(
  z.optional(z.string()),
  z.transform((v, payload): PricingOverrides => {
    if (v === undefined) return {};
    try {
      const parsed = PricingOverridesSchema.safeParse(JSON.parse(v));
      if (parsed.success) return parsed.data;
    } catch {
      // reported below
    }
    payload.issues.push({
      code: "custom",
      message: "must be JSON: {model id: {credits_per_second, …}}",
      input: v,
    });
    return z.NEVER;
  }),
);

const ConfigSchema = z.object({
  UPSTREAM_BASE_URL: z._default(httpUrl, "https://api.evolink.ai"),
  UPSTREAM_API_KEY: z.string().check(z.minLength(1, "is required")),
  UPSTREAM_TIMEOUT_MS: positiveInt(DEFAULT_UPSTREAM_TIMEOUT_MS),
  PUBLIC_BASE_URL: httpUrl,
  ADMIN_TOKEN: z.string().check(z.minLength(16, "must be at least 16 characters")),
  SIGNING_SECRET: z.string().check(z.minLength(32, "must be at least 32 characters")),
  DEV_ALLOW_LOCAL_URLS: bool,
  LOG_LEVEL: z._default(z.enum(["debug", "info", "warn", "error"]), "info"),
  WEBHOOK_RETRY_SCHEDULE: delaySchedule,
  WEBHOOK_TIMEOUT_MS: positiveInt(DEFAULT_WEBHOOK_TIMEOUT_MS),
  WEBHOOK_DISABLE_AFTER_HOURS: positiveNumber(DEFAULT_WEBHOOK_DISABLE_AFTER_HOURS),
  SWEEP_MIN_AGE_SECONDS: positiveInt(DEFAULT_SWEEP_MIN_AGE_S),
  TASK_POLL_CACHE_MS: nonNegativeInt(DEFAULT_TASK_POLL_CACHE_MS),
  QUOTA_PRICING: pricingOverrides,
  FILES_BASE_URL: z._default(httpUrl, "https://files-api.evolink.ai"),
  FILES_BACKEND: z._default(z.enum(["evolink", "r2"]), "evolink"),
  MAX_UPLOAD_BYTES: positiveInt(DEFAULT_MAX_UPLOAD_BYTES),
  MAX_RESULT_RETENTION_DAYS: positiveInt(DEFAULT_MAX_RESULT_RETENTION_DAYS),
  EVENTS_POLL_MS: positiveInt(DEFAULT_EVENTS_POLL_MS),
  EVENTS_IDLE_MS: positiveInt(DEFAULT_EVENTS_IDLE_MS),
  OPERATOR_WEBHOOK_URL: z.optional(httpUrl),
  OPERATOR_WEBHOOK_SECRET: z.optional(
    z
      .string()
      .check(z.regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, "must be whsec_ and at least 24 base64 bytes")),
  ),
  UPSTREAM_CREDITS_CHECK_SECONDS: positiveInt(DEFAULT_UPSTREAM_CREDITS_CHECK_S),
  UPSTREAM_CREDITS_ALERT: z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d+(\.\d+)?$/, "must be a non-negative number of credits")),
      z.transform(Number),
    ),
  ),
});

export interface Config {
  upstreamBaseUrl: string;
  upstreamApiKey: string;
  upstreamTimeoutMs: number;
  publicBaseUrl: string;
  adminToken: string;
  signingSecret: string;
  devAllowLocalUrls: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Seconds to wait before webhook attempt n+1 after attempt n failed; its length is the retry count. */
  webhookRetrySchedule: readonly number[];
  webhookTimeoutMs: number;
  /** An endpoint failing continuously this long is disabled (WEBHOOK_DISABLE_AFTER_HOURS; fractions allowed). */
  webhookDisableAfterMs: number;
  /** The sweeper asks the upstream about tasks silent for this long. */
  sweepMinAgeSeconds: number;
  /** A task polled this recently is answered from its recorded state, without asking the upstream. */
  taskPollCacheMs: number;
  pricing: PricingOverrides;
  /** EvoLink's files API, where uploads go with FILES_BACKEND=evolink (docs/uploads.md). */
  filesBaseUrl: string;
  /** Where uploaded files are kept: EvoLink's files API, or the operator's R2 bucket (`UPLOADS`). */
  filesBackend: "evolink" | "r2";
  /** Largest accepted upload, in bytes. */
  maxUploadBytes: number;
  /** The longest `results.retention_days` a tenant may be given (docs/results.md). */
  maxResultRetentionDays: number;
  /** How often a task's event streams ask the upstream, through the location's poll cache (docs/events.md). */
  eventsPollMs: number;
  /** An event stream that has sent no event for this long is closed (the client resumes with Last-Event-ID). */
  eventsIdleMs: number;
  /**
   * Where the operator's own events go (docs/quotas.md, "The operator's account"), signed with its secret;
   * null: they are structured log lines only.
   */
  operatorWebhook: { url: string; secret: string } | null;
  /** How often the Registry reads the operator's EvoLink balance. */
  upstreamCreditsCheckSeconds: number;
  /** `upstream.credits_low` fires when the balance falls under this many credits (null: only under the open reservations). */
  upstreamCreditsAlert: number | null;
}

const cache = new WeakMap<object, Config>();

function unset(v: unknown): unknown {
  return typeof v === "string" && v.trim() === "" ? undefined : v;
}

/**
 * A setting is missing or malformed. The message names the settings, never their values; the request
 * middleware (src/http/middleware.ts) answers it as a 503 `misconfigured`.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Parses the bindings into a Config, or throws a ConfigError naming the bad settings. */
export function loadConfig(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const v = (env as Record<string, unknown>)[key];
    // Empty strings are "unset" (wrangler passes `--var X:` as ""), so defaults apply.
    raw[key] = unset(v);
  }
  // FILES_STORE was FILES_BACKEND's name until 2026-12; a deployment that still sets it keeps working.
  raw.FILES_BACKEND ??= unset((env as Record<string, unknown>).FILES_STORE);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? "config");
      const why = i.code === "invalid_type" ? "is required" : i.message;
      return `${name} ${why}`;
    });
    throw new ConfigError(`Gateway misconfigured: ${[...new Set(problems)].join("; ")}`);
  }
  const c = parsed.data;
  if ((c.OPERATOR_WEBHOOK_URL === undefined) !== (c.OPERATOR_WEBHOOK_SECRET === undefined))
    throw new ConfigError(
      "Gateway misconfigured: OPERATOR_WEBHOOK_URL and OPERATOR_WEBHOOK_SECRET are set together or not at all",
    );
  const config: Config = {
    upstreamBaseUrl: c.UPSTREAM_BASE_URL,
    upstreamApiKey: c.UPSTREAM_API_KEY,
    upstreamTimeoutMs: c.UPSTREAM_TIMEOUT_MS,
    publicBaseUrl: c.PUBLIC_BASE_URL,
    adminToken: c.ADMIN_TOKEN,
    signingSecret: c.SIGNING_SECRET,
    devAllowLocalUrls: c.DEV_ALLOW_LOCAL_URLS,
    logLevel: c.LOG_LEVEL,
    webhookRetrySchedule: c.WEBHOOK_RETRY_SCHEDULE,
    webhookTimeoutMs: c.WEBHOOK_TIMEOUT_MS,
    webhookDisableAfterMs: Math.round(c.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000),
    sweepMinAgeSeconds: c.SWEEP_MIN_AGE_SECONDS,
    taskPollCacheMs: c.TASK_POLL_CACHE_MS,
    pricing: c.QUOTA_PRICING,
    filesBaseUrl: c.FILES_BASE_URL,
    filesBackend: c.FILES_BACKEND,
    maxUploadBytes: c.MAX_UPLOAD_BYTES,
    maxResultRetentionDays: c.MAX_RESULT_RETENTION_DAYS,
    eventsPollMs: c.EVENTS_POLL_MS,
    eventsIdleMs: c.EVENTS_IDLE_MS,
    operatorWebhook:
      c.OPERATOR_WEBHOOK_URL && c.OPERATOR_WEBHOOK_SECRET
        ? { url: c.OPERATOR_WEBHOOK_URL, secret: c.OPERATOR_WEBHOOK_SECRET }
        : null,
    upstreamCreditsCheckSeconds: c.UPSTREAM_CREDITS_CHECK_SECONDS,
    upstreamCreditsAlert: c.UPSTREAM_CREDITS_ALERT ?? null,
  };
  cache.set(env, config);
  return config;
}
