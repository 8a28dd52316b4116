// enforcePolicy: each tenant policy rule is a 403 policy_violation naming the field, defaults count as
// sent, callback_hosts matches exact hosts, "*." subdomain wildcards and "*" only, and without it a
// callback_url may only point at the host of the tenant's webhook.url (with neither, nowhere).
import { describe, expect, it } from "vitest";
import { enforcePolicy } from "../../src/generations/policy";
import { callbackHostAllowed, isCallbackHostPattern } from "../../src/net/host-patterns";
import { parseGenerationRequest, type GenerationRequest } from "../../src/generations/schema";
import { ApiError } from "../../src/http/errors";
import type { Tenant, TenantPolicy } from "../../src/tenants/schema";

function request(fields: Record<string, unknown> = {}): GenerationRequest {
  return parseGenerationRequest(
    {
      model: "wan2.6-reference-video-flash",
      prompt: "A person dancing",
      video_urls: ["https://cdn.example.com/a.mp4"],
      ...fields,
    },
    { allowLocalUrls: false },
  );
}

/** The tenant as enforcePolicy reads it: a policy, and optionally a webhook URL. */
function tenant(policy: TenantPolicy | undefined, webhookUrl?: string): Pick<Tenant, "policy" | "webhook"> {
  return { policy, ...(webhookUrl ? { webhook: { url: webhookUrl, secret: "whsec_x" } } : {}) };
}

function violation(req: GenerationRequest, policy: TenantPolicy | undefined, webhookUrl?: string): ApiError {
  try {
    enforcePolicy(req, tenant(policy, webhookUrl));
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.code).toBe("policy_violation");
    expect(e.status).toBe(403);
    return e;
  }
  throw new Error("expected a policy violation");
}

describe("enforcePolicy", () => {
  it("lets everything through without a policy or with an empty one", () => {
    const req = request({ quality: "1080p", duration: 10, generate_audio: true });
    expect(() => enforcePolicy(req, tenant(undefined))).not.toThrow();
    expect(() => enforcePolicy(req, tenant({}))).not.toThrow();
    const withCallback = request({ callback_url: "https://a.example.com/" });
    expect(() => enforcePolicy(withCallback, tenant(undefined, "https://a.example.com/hook"))).not.toThrow();
    expect(() => enforcePolicy(withCallback, tenant({}, "https://a.example.com/hook"))).not.toThrow();
  });

  it("enforces allowed_qualities, including the default quality", () => {
    const policy = { allowed_qualities: ["720p"] } satisfies TenantPolicy;
    expect(() => enforcePolicy(request({ quality: "720p" }), tenant(policy))).not.toThrow();
    const err = violation(request({ quality: "1080p" }), policy);
    expect(err.param).toBe("quality");
    expect(err.message).toBe("quality 1080p is not allowed for this tenant (allowed: 720p)");
    expect(violation(request(), { allowed_qualities: ["1080p"] }).param).toBe("quality");
  });

  it("enforces max_duration, including the default duration", () => {
    expect(() => enforcePolicy(request({ duration: 6 }), tenant({ max_duration: 6 }))).not.toThrow();
    const err = violation(request({ duration: 7 }), { max_duration: 6 });
    expect(err.param).toBe("duration");
    expect(err.message).toBe("duration 7 exceeds this tenant's maximum of 6 seconds");
    expect(violation(request(), { max_duration: 4 }).param).toBe("duration"); // default 5
  });

  it("enforces allow_audio, including the default generate_audio: true", () => {
    const policy = { allow_audio: false };
    expect(() => enforcePolicy(request({ generate_audio: false }), tenant(policy))).not.toThrow();
    expect(() =>
      enforcePolicy(request({ model_params: { generate_audio: false } }), tenant(policy)),
    ).not.toThrow();
    const err = violation(request(), policy);
    expect(err.param).toBe("generate_audio");
    expect(err.message).toContain("send generate_audio: false");
    expect(violation(request({ generate_audio: true }), policy).param).toBe("generate_audio");
    expect(() => enforcePolicy(request(), tenant({ allow_audio: true }))).not.toThrow();
  });

  it("enforces callback_hosts when set", () => {
    const policy = { callback_hosts: ["hooks.example.com", "*.tenant.example"] };
    for (const url of [
      "https://hooks.example.com/x",
      "https://a.tenant.example/",
      "https://a.b.tenant.example/",
    ]) {
      expect(() => enforcePolicy(request({ callback_url: url }), tenant(policy)), url).not.toThrow();
    }
    const err = violation(request({ callback_url: "https://evil.example.com/x" }), policy);
    expect(err.param).toBe("callback_url");
    expect(err.message).toBe(
      "callback_url host evil.example.com is not in this tenant's allowed callback hosts",
    );
    expect(violation(request({ callback_url: "https://tenant.example/" }), policy).param).toBe(
      "callback_url",
    );
    expect(() => enforcePolicy(request(), tenant(policy))).not.toThrow(); // no callback_url, nothing to check
  });

  it("refuses every callback_url when callback_hosts is empty, whatever the webhook", () => {
    const req = request({ callback_url: "https://hooks.example.com/" });
    expect(violation(req, { callback_hosts: [] }).param).toBe("callback_url");
    expect(violation(req, { callback_hosts: [] }, "https://hooks.example.com/hook").param).toBe(
      "callback_url",
    );
  });

  it("lists only callback_hosts when set: the webhook's host is not added to them", () => {
    const req = request({ callback_url: "https://hooks.acme.example/x" });
    const err = violation(req, { callback_hosts: ["other.acme.example"] }, "https://hooks.acme.example/h");
    expect(err.message).toBe(
      "callback_url host hooks.acme.example is not in this tenant's allowed callback hosts",
    );
  });

  it("without callback_hosts, takes a callback_url only on the host of the tenant's webhook.url", () => {
    const webhook = "https://hooks.acme.example/reelgate";
    for (const url of [
      "https://hooks.acme.example/per-task/42",
      "https://HOOKS.acme.example./x",
      "https://hooks.acme.example:8443/x",
    ]) {
      expect(
        () => enforcePolicy(request({ callback_url: url }), tenant(undefined, webhook)),
        url,
      ).not.toThrow();
      expect(() => enforcePolicy(request({ callback_url: url }), tenant({}, webhook)), url).not.toThrow();
    }
    const err = violation(request({ callback_url: "https://attacker.example/x" }), undefined, webhook);
    expect(err.param).toBe("callback_url");
    expect(err.message).toBe(
      "callback_url host attacker.example is not the host of this tenant's webhook.url (hooks.acme.example); policy.callback_hosts can allow others",
    );
    for (const url of ["https://sub.hooks.acme.example/x", "https://acme.example/x"])
      expect(violation(request({ callback_url: url }), { max_duration: 10 }, webhook).param, url).toBe(
        "callback_url",
      );
  });

  it("with neither callback_hosts nor webhook.url, refuses every callback_url", () => {
    for (const policy of [undefined, {}, { allow_audio: true }]) {
      const err = violation(request({ callback_url: "https://attacker.example/x" }), policy);
      expect(err.param).toBe("callback_url");
      expect(err.message).toBe(
        "this tenant accepts no callback_url (it has neither policy.callback_hosts nor a webhook.url)",
      );
    }
  });

  it('takes a callback_url on any host with callback_hosts: ["*"]', () => {
    for (const webhook of [undefined, "https://hooks.acme.example/h"]) {
      const req = request({ callback_url: "https://anywhere.example.net/x" });
      expect(() => enforcePolicy(req, tenant({ callback_hosts: ["*"] }, webhook))).not.toThrow();
    }
  });
});

describe("callbackHostAllowed", () => {
  it.each([
    ["hooks.example.com", ["hooks.example.com"], true],
    ["HOOKS.example.com", ["hooks.EXAMPLE.com"], true],
    ["hooks.example.com.", ["hooks.example.com"], true],
    ["hooks.example.com", ["hooks.example.com."], true],
    ["api.hooks.example.com", ["hooks.example.com"], false],
    ["example.com", ["hooks.example.com"], false],
    ["a.example.com", ["*.example.com"], true],
    ["a.b.example.com", ["*.example.com"], true],
    ["example.com", ["*.example.com"], false],
    ["badexample.com", ["*.example.com"], false],
    ["example.com.evil.io", ["*.example.com"], false],
    ["a.example.com", ["*example.com"], false],
    ["a.example.com", ["a.*.com"], false],
    ["a.example.com", ["*"], true],
    ["a.example.com", ["**"], false],
    ["a.example.com", ["*."], false],
    ["xn--mnchen-3ya.example", ["münchen.example"], true],
    ["hooks.example.com", ["hooks.example.com:443"], false],
    ["hooks.example.com", [], false],
  ] as const)("%s against %j → %s", (host, patterns, allowed) => {
    expect(callbackHostAllowed(host, patterns)).toBe(allowed);
  });

  it("validates patterns for the admin API", () => {
    for (const p of ["hooks.example.com", "*.example.com", "münchen.example", "*"])
      expect(isCallbackHostPattern(p), p).toBe(true);
    for (const p of [
      "**",
      "*.",
      " *",
      "*example.com",
      "a.*.com",
      "example.com:443",
      "https://example.com",
      "",
      "a b.com",
    ]) {
      expect(isCallbackHostPattern(p), p).toBe(false);
    }
  });
});
