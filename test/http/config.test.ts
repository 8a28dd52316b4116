// Settings parsed once per isolate: a bad one is a ConfigError (a 503 `misconfigured` naming it, never its
// value), and a renamed setting keeps its old name as an alias.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { ConfigError, loadConfig } from "../../src/config/env";

describe("configuration", () => {
  it("throws a ConfigError naming the setting, and the app answers it as 503 misconfigured", async () => {
    const bad = { ...env, FILES_BACKEND: "s3" };
    expect(() => loadConfig(bad)).toThrow(ConfigError);
    expect(() => loadConfig(bad)).toThrow(/FILES_BACKEND/);
    const res = await app.fetch(new Request("https://gw.test/healthz"), bad);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
  });

  it("reads FILES_STORE, FILES_BACKEND's former name, when FILES_BACKEND is unset", () => {
    expect(loadConfig({ ...env, FILES_BACKEND: undefined, FILES_STORE: "r2" }).filesBackend).toBe("r2");
    expect(loadConfig({ ...env, FILES_BACKEND: "evolink", FILES_STORE: "r2" }).filesBackend).toBe("evolink");
    expect(loadConfig({ ...env, FILES_BACKEND: undefined }).filesBackend).toBe("evolink");
  });

  it("the operator's webhook: URL and secret together or not at all, the secret a whsec_ key; never echoed", () => {
    const none = { ...env, OPERATOR_WEBHOOK_URL: undefined, OPERATOR_WEBHOOK_SECRET: undefined };
    expect(loadConfig(none).operatorWebhook).toBeNull();
    expect(() => loadConfig({ ...none, OPERATOR_WEBHOOK_URL: "https://ops.example/hook" })).toThrow(
      /OPERATOR_WEBHOOK_URL and OPERATOR_WEBHOOK_SECRET/,
    );
    const weak = { ...env, OPERATOR_WEBHOOK_SECRET: "whsec_c2hvcnQ=" };
    expect(() => loadConfig(weak)).toThrow(/OPERATOR_WEBHOOK_SECRET/);
    expect(() => loadConfig(weak)).not.toThrow(/c2hvcnQ/);
    expect(loadConfig({ ...env, UPSTREAM_CREDITS_ALERT: "250.5" }).upstreamCreditsAlert).toBe(250.5);
    expect(() => loadConfig({ ...env, UPSTREAM_CREDITS_ALERT: "-1" })).toThrow(/UPSTREAM_CREDITS_ALERT/);
    expect(loadConfig(none).upstreamCreditsCheckSeconds).toBe(300);
  });

  it("WEBHOOK_DISABLE_AFTER_HOURS: 120 by default, a positive number (fractions compress it in tests)", () => {
    expect(loadConfig({ ...env, WEBHOOK_DISABLE_AFTER_HOURS: undefined }).webhookDisableAfterMs).toBe(
      120 * 3_600_000,
    );
    expect(loadConfig({ ...env, WEBHOOK_DISABLE_AFTER_HOURS: "0.5" }).webhookDisableAfterMs).toBe(1_800_000);
    for (const bad of ["0", "-1", "5d", "0.0"])
      expect(() => loadConfig({ ...env, WEBHOOK_DISABLE_AFTER_HOURS: bad })).toThrow(
        /WEBHOOK_DISABLE_AFTER_HOURS/,
      );
  });
});
