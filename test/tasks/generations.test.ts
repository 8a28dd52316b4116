// POST /v1/videos/generations through the real app, against the strict simulator.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { validateAgainstContract } from "../../sim/src/contract";
import { createTenant, hsTenant } from "../fixtures/tenants";
import {
  GATEWAY,
  UPSTREAM_HOST,
  UPSTREAM_KEY,
  VALID_BODY,
  gw,
  startSimulator,
  withJson,
} from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";

const TASK_ID = /^task-unified-[a-z2-7]{100,140}$/;

describe("creating a task", () => {
  it("validates, rewrites and forwards with the operator's key, answering with the gateway's own task id", async () => {
    const { sim } = startSimulator();
    // A per-request callback_url on the host of the tenant's webhook.url needs no callback_hosts.
    const t = await createTenant(hsTenant({ webhook: { url: "https://hooks.acme.example/reelgate" } }));
    const token = await t.token();
    const res = await gw(
      "/v1/videos/generations",
      withJson(
        token,
        { ...VALID_BODY, callback_url: "https://hooks.acme.example/done" },
        {
          cookie: "session=abc",
          "x-forwarded-for": "203.0.113.9",
          "cf-connecting-ip": "203.0.113.9",
          "accept-language": "de-DE",
          "x-custom": "nope",
        },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      object: "video.generation.task",
      model: "wan2.6-reference-video-flash",
      status: "pending",
      progress: 0,
      type: "video",
      usage: { billing_rule: "per_second", credits_reserved: expect.any(Number) },
    });
    expect(body.id).toMatch(TASK_ID);

    const [upstreamTask] = sim.tasks();
    expect(upstreamTask).toBeDefined();
    expect(body.id).not.toBe(upstreamTask!.id);
    expect(JSON.stringify(body)).not.toContain(upstreamTask!.id);

    const [call] = callsTo(UPSTREAM_HOST);
    expect(call!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(call!.headers["accept-language"]).toBe("de-DE");
    for (const h of ["cookie", "x-forwarded-for", "cf-connecting-ip", "x-custom"])
      expect(call!.headers[h]).toBeUndefined();
    expect(call!.headers.authorization).not.toContain(token);

    const sent = JSON.parse(call!.body);
    expect(sent).toEqual({
      model: "wan2.6-reference-video-flash",
      prompt: VALID_BODY.prompt,
      video_urls: VALID_BODY.video_urls,
      aspect_ratio: "16:9",
      quality: "720p",
      duration: 5,
      generate_audio: true,
      callback_url: expect.stringMatching(
        new RegExp(`^${GATEWAY}/callbacks/upstream/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`),
      ),
    });
    expect(sent.callback_url).not.toContain("hooks.acme.example");
  });

  it("makes the task visible the moment creation returns", async () => {
    startSimulator();
    const t = await createTenant();
    const token = await t.token();
    const created = (await (await gw("/v1/videos/generations", withJson(token, VALID_BODY))).json()) as {
      id: string;
    };
    const res = await gw(`/v1/tasks/${created.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(created.id);
  });

  it.each([
    ["an unknown field", { ...VALID_BODY, durration: 5 }, 400, "invalid_request"],
    ["a wrong model", { ...VALID_BODY, model: "wan2.6-text-to-video" }, 400, "invalid_request"],
    ["a prompt over 1500 code points", { ...VALID_BODY, prompt: "é".repeat(1501) }, 400, "invalid_request"],
    [
      "four reference videos",
      { ...VALID_BODY, video_urls: Array(4).fill("https://cdn.acme.example/a.mp4") },
      400,
      "invalid_request",
    ],
    [
      "a private reference video",
      { ...VALID_BODY, video_urls: ["http://192.168.1.5/a.mp4"] },
      400,
      "invalid_request",
    ],
    [
      "an http callback",
      { ...VALID_BODY, callback_url: "http://hooks.acme.example/x" },
      400,
      "invalid_request",
    ],
    [
      "a loopback callback in hex",
      { ...VALID_BODY, callback_url: "https://0x7f000001/x" },
      400,
      "invalid_request",
    ],
    [
      "a contradictory audio flag",
      { ...VALID_BODY, generate_audio: true, model_params: { generate_audio: false } },
      400,
      "invalid_request",
    ],
  ])("refuses %s before calling the upstream", async (_label, body, status, code) => {
    startSimulator();
    const t = await createTenant();
    const res = await gw("/v1/videos/generations", withJson(await t.token(), body));
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({
      error: { code, message: expect.any(String), type: "invalid_request_error" },
    });
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
  });

  it("refuses bodies that are not JSON, not application/json or too large", async () => {
    startSimulator();
    const t = await createTenant();
    const token = await t.token();
    const notJson = await gw("/v1/videos/generations", { ...withJson(token, {}), body: "{" });
    expect(notJson.status).toBe(400);
    const textPlain = await gw("/v1/videos/generations", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
      body: JSON.stringify(VALID_BODY),
    });
    expect(textPlain.status).toBe(415);
    expect(await textPlain.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
    const huge = await gw(
      "/v1/videos/generations",
      withJson(token, { ...VALID_BODY, prompt: "x".repeat(70_000) }),
    );
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: "payload_too_large" } });
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
  });

  it("enforces the tenant's policy with 403 policy_violation", async () => {
    startSimulator();
    const t = await createTenant(
      hsTenant({
        policy: {
          allowed_qualities: ["720p"],
          max_duration: 6,
          allow_audio: false,
          callback_hosts: ["hooks.acme.example"],
        },
      }),
    );
    const token = await t.token();
    for (const [body, param] of [
      [{ ...VALID_BODY, quality: "1080p", generate_audio: false }, "quality"],
      [{ ...VALID_BODY, duration: 8, generate_audio: false }, "duration"],
      [{ ...VALID_BODY }, "generate_audio"],
      [{ ...VALID_BODY, generate_audio: false, callback_url: "https://evil.example/x" }, "callback_url"],
    ] as const) {
      const res = await gw("/v1/videos/generations", withJson(token, body));
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "policy_violation", param } });
    }
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
    const ok = await gw(
      "/v1/videos/generations",
      withJson(token, { ...VALID_BODY, generate_audio: false, callback_url: "https://hooks.acme.example/x" }),
    );
    expect(ok.status).toBe(200);
  });

  it("refuses local callback URLs unless DEV_ALLOW_LOCAL_URLS is on", async () => {
    startSimulator();
    const t = await createTenant(hsTenant({ policy: { callback_hosts: ["127.0.0.1"] } }));
    const body = { ...VALID_BODY, callback_url: "http://127.0.0.1:9000/hook" };
    expect(env.DEV_ALLOW_LOCAL_URLS).toBe("false");
    const off = await gw("/v1/videos/generations", withJson(await t.token(), body));
    expect(off.status).toBe(400);
    expect(await off.json()).toMatchObject({ error: { param: "callback_url" } });

    // Unset is off too (the default for a deployment that never mentions it).
    const unset = await app.fetch(
      new Request(`${GATEWAY}/v1/videos/generations`, withJson(await t.token(), body)),
      { ...env, DEV_ALLOW_LOCAL_URLS: undefined },
    );
    expect(unset.status).toBe(400);

    const devEnv = { ...env, DEV_ALLOW_LOCAL_URLS: "true" };
    const on = await app.fetch(
      new Request(`${GATEWAY}/v1/videos/generations`, withJson(await t.token(), body)),
      devEnv,
    );
    expect(on.status).toBe(200);
  });
});

describe.skipIf(!env.UPSTREAM_CONTRACT)("contract: what the gateway sends upstream", () => {
  it("validates against the upstream's OpenAPI request schema for every accepted variant", async () => {
    startSimulator();
    const t = await createTenant(hsTenant({ policy: { callback_hosts: ["hooks.acme.example"] } }));
    const token = await t.token();
    const variants = [
      VALID_BODY,
      { ...VALID_BODY, quality: "1080p", duration: 10, aspect_ratio: "9:16", generate_audio: false },
      { ...VALID_BODY, model_params: { shot_type: "multi", generate_audio: true } },
      {
        ...VALID_BODY,
        video_urls: ["https://a.example/1.mp4", "https://b.example/2.mov", "http://c.example/3.mp4"],
      },
      { ...VALID_BODY, callback_url: "https://hooks.acme.example/cb", duration: 2 },
    ];
    for (const v of variants)
      expect((await gw("/v1/videos/generations", withJson(token, v))).status).toBe(200);
    const sent = callsTo(UPSTREAM_HOST).filter((c) => c.method === "POST");
    expect(sent).toHaveLength(variants.length);
    for (const c of sent)
      expect(validateAgainstContract(env.UPSTREAM_CONTRACT!, JSON.parse(c.body))).toEqual([]);
  });
});

if (!env.UPSTREAM_CONTRACT) console.warn("contract tests skipped: ../shared/upstream not found");

describe("upstream failures are mapped, never passed raw", () => {
  it.each([
    [401, 503, "upstream_unavailable"],
    [402, 503, "upstream_unavailable"],
    [403, 503, "upstream_unavailable"],
    [429, 429, "upstream_rate_limited"],
    [500, 502, "upstream_error"],
    [503, 502, "upstream_error"],
  ] as const)("upstream %i → %i %s, and the task is not left behind", async (upstream, status, code) => {
    const { sim } = startSimulator();
    const t = await createTenant();
    sim.inject({ create: { status: upstream, count: 1, retryAfterSeconds: 42 } });
    const res = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error.code).toBe(code);
    if (upstream === 429) expect(res.headers.get("retry-after")).toBe("42");
    // The upstream's own wording (which may name our account) is not passed through for these.
    expect(JSON.stringify(body)).not.toMatch(/top up|account/i);
  });

  it("passes an upstream 400's message through as invalid_request", async () => {
    startSimulator();
    const t = await createTenant();
    // The upstream checks what the gateway cannot (e.g. the reference video's real duration).
    route(UPSTREAM_HOST, () =>
      Response.json(
        {
          error: {
            code: "invalid_request",
            message: "Video duration must be between 2-30 seconds",
            type: "invalid_request_error",
          },
        },
        { status: 400 },
      ),
    );
    const res = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: "invalid_request",
        message: "Video duration must be between 2-30 seconds",
        type: "invalid_request_error",
      },
    });
  });

  it("maps the upstream's idempotency conflict to 409 idempotency_conflict", async () => {
    startSimulator();
    const t = await createTenant();
    route(UPSTREAM_HOST, () =>
      Response.json(
        { error: { code: "idempotency_conflict", message: "conflict", type: "invalid_request_error" } },
        { status: 409 },
      ),
    );
    const res = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: "idempotency_conflict" } });
  });

  it("answers 502 upstream_error for an unreadable upstream answer", async () => {
    startSimulator();
    const t = await createTenant();
    route(UPSTREAM_HOST, () => new Response("<html>gateway timeout</html>", { status: 200 }));
    const res = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: "upstream_error" } });
  });

  it("answers 504 upstream_timeout when the upstream hangs, and 502 when it is unreachable", async () => {
    const { sim } = startSimulator();
    const t = await createTenant();
    sim.inject({ hangCreate: true });
    const res = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: "upstream_timeout" } });

    route(UPSTREAM_HOST, () => {
      throw new TypeError("connection refused");
    });
    const down = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ error: { code: "upstream_error" } });
  });
});

describe("configuration", () => {
  it("names a missing or malformed setting, never its value", async () => {
    const broken = { ...env, SIGNING_SECRET: "short-secret-value", UPSTREAM_API_KEY: undefined };
    const res = await app.fetch(new Request(`${GATEWAY}/healthz`), broken);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toContain("SIGNING_SECRET");
    expect(text).toContain("UPSTREAM_API_KEY");
    expect(text).not.toContain("short-secret-value");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("requires PUBLIC_BASE_URL to be an absolute URL", async () => {
    const res = await app.fetch(new Request(`${GATEWAY}/healthz`), { ...env, PUBLIC_BASE_URL: "not a url" });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("PUBLIC_BASE_URL");
  });
});
