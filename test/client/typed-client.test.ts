// The "build a client" code (examples/client, docs/client.md) against the real app: the openapi-fetch client
// typed by openapi-typescript from the committed document, tokens minted with the example's jose snippets
// (ES256 with a JWKS, HS256 with a shared secret), and the example's Standard Webhooks verification of a
// body signed by the gateway's own signer. If the document, the types or the app drift apart, this fails.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createReelgateClient, waitForTask } from "../../examples/client/reelgate";
import { mintEs256, mintHs256, newEs256Key } from "../../examples/client/tokens";
import { verifyWebhook } from "../../examples/client/webhooks";
import { webhookHeaders } from "../../src/callbacks/signature";
import { generateWebhookSecret } from "../../src/tenants/view";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { GATEWAY, startSimulator } from "../helpers/gateway";
import { checkAgainstOpenApi } from "../helpers/openapi";
import { sweepResponse } from "../helpers/sweep";

/** The app as the client's fetch, with the same key sweep and OpenAPI check as gw(). */
async function appFetch(request: Request): Promise<Response> {
  const res = await sweepResponse(await exports.default.fetch(request));
  await checkAgainstOpenApi(request.method, request.url, res);
  return res;
}

const BODY = {
  model: "wan2.6-reference-video-flash" as const,
  prompt: "A person dancing in the rain",
  video_urls: ["https://cdn.example.com/reference.mp4"],
};

describe("the typed client", () => {
  it("creates, replays, waits for and lists tasks with an ES256 token from a JWKS", async () => {
    const { clock } = startSimulator();
    const { privateKey, jwks } = await newEs256Key("key-2026");
    const t = hsTenant();
    const tenant = await createTenant({
      ...t,
      input: { ...t.input, auth: { issuer: t.issuer, audience: t.audience, jwks, algorithms: ["ES256"] } },
    });
    const claims = { issuer: tenant.issuer, audience: tenant.audience, sub: "user-7" };
    const client = createReelgateClient({
      baseUrl: GATEWAY,
      token: () => mintEs256(privateKey, "key-2026", claims),
      fetch: appFetch,
    });

    const models = await client.GET("/v1/models");
    expect(models.data?.data.map((m) => m.id)).toContain("wan2.6-reference-video");

    const key = { "Idempotency-Key": "typed-client-0001-abcdef" };
    const created = await client.POST("/v1/videos/generations", { body: BODY, headers: key });
    expect(created.error).toBeUndefined();
    expect(created.data).toMatchObject({ status: "pending", model: BODY.model });
    const again = await client.POST("/v1/videos/generations", { body: BODY, headers: key });
    expect(again.data?.id).toBe(created.data!.id);
    expect(again.response.headers.get("idempotency-replayed")).toBe("true");

    const ended = await waitForTask(client, created.data!.id, {
      intervalMs: 2_000,
      sleep: (ms) => clock.advance(ms),
    });
    expect(ended).toMatchObject({ status: "completed", progress: 100 });
    expect(ended.results?.[0]).toMatch(/^https:\/\//);

    const list = await client.GET("/v1/tasks", { params: { query: { status: "completed", page_size: 5 } } });
    expect(list.data).toMatchObject({ total: 1, page: 1, page_size: 5 });
    expect(list.data?.data[0]).toMatchObject({ id: created.data!.id, has_results: true });
  });

  it("gets typed errors with an HS256 token", async () => {
    startSimulator();
    const tenant = await createTenant(
      hsTenant({ policy: { allowed_models: ["wan2.6-reference-video-flash"] } }),
    );
    const client = createReelgateClient({
      baseUrl: GATEWAY,
      token: () => mintHs256(tenant.secret, { issuer: tenant.issuer, audience: tenant.audience }),
      fetch: appFetch,
    });
    const refused = await client.POST("/v1/videos/generations", {
      body: { ...BODY, model: "wan2.6-reference-video" },
    });
    expect(refused.response.status).toBe(403);
    expect(refused.error?.error).toMatchObject({ code: "policy_violation", param: "model" });

    const missing = await client.GET("/v1/tasks/{task_id}", {
      params: { path: { task_id: "task-unified-1-x" } },
    });
    expect(missing.error?.error.code).toBe("task_not_found");

    const anonymous = createReelgateClient({ baseUrl: GATEWAY, token: () => "not-a-jwt", fetch: appFetch });
    expect((await anonymous.GET("/v1/usage")).error?.error.code).toBe("unauthorized");
  });
});

describe("webhook verification (examples/client/webhooks.ts)", () => {
  it("accepts what the gateway signs and refuses a changed body", async () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ id: "task-unified-1-abc", status: "completed", model: BODY.model });
    const headers = new Headers(
      await webhookHeaders([secret], "msg_1-abc", Math.floor(Date.now() / 1000), body),
    );
    expect(verifyWebhook(secret, headers, body)).toMatchObject({
      id: "task-unified-1-abc",
      status: "completed",
    });
    expect(() => verifyWebhook(secret, headers, body.replace("completed", "failed"))).toThrow();
    expect(() => verifyWebhook(generateWebhookSecret(), headers, body)).toThrow();
  });
});
