// GET /v1/models and the tenant policy `allowed_models`, through the real app; the non-flash model end to
// end: priced as its registry entry says, forwarded in its own upstream contract's shape, refused when a
// tenant's policy leaves it out (403 policy_violation, the upstream never called).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { validateAgainstContract } from "../../sim/src/contract";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { admin, bearer, gw, startSimulator, UPSTREAM_HOST, VALID_BODY, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";

const NON_FLASH = "wan2.6-reference-video";
const FLASH = VALID_BODY.model;

interface ModelList {
  object: string;
  data: Array<{ id: string; parameters: Record<string, any>; pricing: Record<string, any> }>;
}

async function models(token: string): Promise<ModelList> {
  const res = await gw("/v1/models", bearer(token));
  expect(res.status).toBe(200);
  return (await res.json()) as ModelList;
}

describe("GET /v1/models", () => {
  it("lists both models with their parameters and price basis", async () => {
    const t = await createTenant();
    const list = await models(await t.token());
    expect(list.object).toBe("list");
    expect(list.data.map((m) => m.id)).toEqual([FLASH, NON_FLASH]);
    const [flash, nonFlash] = list.data;
    expect(flash!.parameters).toMatchObject({
      duration: { min: 2, max: 10, default: 5 },
      quality: { values: ["720p", "1080p"], default: "720p" },
      generate_audio: { default: true },
      video_urls: { min_items: 1, max_items: 3 },
    });
    expect(flash!.pricing).toMatchObject({
      credits_per_second: 2.38,
      silent_factor: 0.5,
      minimum_credits: 9,
    });
    expect(nonFlash!.parameters.generate_audio).toBeNull();
    expect(nonFlash!.pricing).toMatchObject({
      credits_per_second: 4.76,
      silent_factor: null,
      quality_factor: { "720p": 1, "1080p": 1.67 },
    });
  });

  it("shows only the models the tenant's policy allows", async () => {
    const t = await createTenant(hsTenant({ policy: { allowed_models: [NON_FLASH] } }));
    expect((await models(await t.token())).data.map((m) => m.id)).toEqual([NON_FLASH]);
  });
});

describe("allowed_models", () => {
  it("refuses a model the policy leaves out with 403 policy_violation, before the upstream", async () => {
    startSimulator();
    const t = await createTenant(hsTenant({ policy: { allowed_models: [FLASH] } }));
    const token = await t.token();
    const res = await gw("/v1/videos/generations", withJson(token, { ...VALID_BODY, model: NON_FLASH }));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: { code: "policy_violation", param: "model", type: "permission_error" },
    });
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
    expect((await gw("/v1/videos/generations", withJson(token, VALID_BODY))).status).toBe(200);
  });

  it("must name registered models", async () => {
    const res = await admin("/admin/tenants/bad-models", {
      method: "PUT",
      json: { ...hsTenant().input, policy: { allowed_models: ["wan9-turbo"] } },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_request", param: "policy.allowed_models[0]" },
    });
  });
});

describe("the non-flash model through the gateway", () => {
  it("is estimated at 4.76 credits/s and forwarded in its own contract's shape", async () => {
    const { sim } = startSimulator();
    const t = await createTenant();
    const res = await gw(
      "/v1/videos/generations",
      withJson(await t.token(), {
        ...VALID_BODY,
        model: NON_FLASH,
        quality: "1080p",
        duration: 10,
        model_params: { shot_type: "multi" },
      }),
    );
    expect(res.status).toBe(200);
    const task = (await res.json()) as { model: string; usage: { credits_reserved: number } };
    expect(task.model).toBe(NON_FLASH);
    // (5 s input + 10 s) × 4.76 × 1.67 = 119.238 → 119.24; the simulator reserves the same.
    expect(task.usage.credits_reserved).toBe(119.24);
    const sent = JSON.parse(callsTo(UPSTREAM_HOST).find((c) => c.method === "POST")!.body);
    expect(sent).not.toHaveProperty("generate_audio");
    expect(sent).toMatchObject({ model: NON_FLASH, quality: "1080p", duration: 10 });
    if (env.UPSTREAM_CONTRACT) expect(validateAgainstContract(env.UPSTREAM_CONTRACT, sent)).toEqual([]);
    expect(sim.tasks()[0]!.request.model).toBe(NON_FLASH);
  });

  it("refuses generate_audio, which it does not have", async () => {
    startSimulator();
    const t = await createTenant();
    const res = await gw(
      "/v1/videos/generations",
      withJson(await t.token(), { ...VALID_BODY, model: NON_FLASH, generate_audio: false }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request", param: "generate_audio" } });
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
  });
});
