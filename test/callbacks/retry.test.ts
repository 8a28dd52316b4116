// The delivery rules as pure functions: which results are final, which are retried and after how long, and
// how the retry schedule is configured.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AttemptResult, classify, describeFailure, retryDelaySeconds } from "../../src/callbacks/retry";
import { ConfigError, loadConfig } from "../../src/config/env";

describe("classify", () => {
  const status = (s: number): AttemptResult => ({ kind: "response", status: s });
  it.each([200, 201, 202, 204, 299])("HTTP %i is delivered", (s) =>
    expect(classify(status(s))).toBe("delivered"),
  );
  it.each([500, 502, 503, 504, 599, 408, 429])("HTTP %i is retried", (s) =>
    expect(classify(status(s))).toBe("transient"),
  );
  it.each([400, 401, 403, 404, 405, 409, 410, 413, 422, 451, 301, 302, 307, 308, 101])(
    "HTTP %i is a permanent failure",
    (s) => expect(classify(status(s))).toBe("permanent"),
  );
  it("retries timeouts and network errors; a refused destination is permanent", () => {
    expect(classify({ kind: "timeout" })).toBe("transient");
    expect(classify({ kind: "network_error" })).toBe("transient");
    expect(classify({ kind: "url_rejected", reason: "must use https" })).toBe("permanent");
  });
  it("describes failures without anything but the status or kind", () => {
    expect(describeFailure(status(204))).toBeNull();
    expect(describeFailure(status(503))).toBe("HTTP 503");
    expect(describeFailure({ kind: "timeout" })).toBe("timed out");
    expect(describeFailure({ kind: "url_rejected", reason: "must use https" })).toBe(
      "destination refused: must use https",
    );
  });
});

describe("retryDelaySeconds", () => {
  const schedule = [5, 300, 1800, 7200, 18000, 36000, 36000];
  it("follows the schedule, spread by ±20 %", () => {
    schedule.forEach((base, i) => {
      expect(retryDelaySeconds(schedule, i + 1, 0)).toBe(Math.round(base * 0.8));
      expect(retryDelaySeconds(schedule, i + 1, 0.5)).toBe(base);
      expect(retryDelaySeconds(schedule, i + 1, 0.999999)).toBe(Math.min(43_200, Math.round(base * 1.2)));
    });
  });
  it("never exceeds what a queue retry accepts (12 h)", () => {
    expect(retryDelaySeconds([43_200], 1, 0.99)).toBe(43_200);
  });
  it("is null once the schedule is exhausted", () => {
    expect(retryDelaySeconds(schedule, 8, 0.5)).toBeNull();
    expect(retryDelaySeconds([1, 1, 1], 4, 0.5)).toBeNull();
  });
});

describe("WEBHOOK_RETRY_SCHEDULE / WEBHOOK_TIMEOUT_MS", () => {
  const config = (vars: Record<string, unknown>) => loadConfig({ ...env, ...vars });
  it("defaults to a Svix-like schedule of about 28 hours and a 15 s timeout", () => {
    const c = config({ WEBHOOK_RETRY_SCHEDULE: undefined, WEBHOOK_TIMEOUT_MS: "" });
    expect(c.webhookRetrySchedule).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(c.webhookTimeoutMs).toBe(15_000);
  });
  it("takes comma-separated seconds", () => {
    expect(config({ WEBHOOK_RETRY_SCHEDULE: "1, 2,3" }).webhookRetrySchedule).toEqual([1, 2, 3]);
    expect(config({ WEBHOOK_RETRY_SCHEDULE: "0" }).webhookRetrySchedule).toEqual([0]);
  });
  it.each(["soon", "1,,2", "-1", "1.5", "43201", "5 300"])("refuses %j, naming the setting", (v) => {
    expect(() => config({ WEBHOOK_RETRY_SCHEDULE: v })).toThrow(ConfigError);
    expect(() => config({ WEBHOOK_RETRY_SCHEDULE: v })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
  });
});
