// POST /v1/videos/generations: validate against the contract and the tenant's policy, rewrite, record the
// task in the tenant's Durable Object, forward with the operator's key, answer with the gateway's task id.
import type { Context } from "hono";
import { callbackUrl, signCallbackToken } from "../callbacks/token";
import { MAX_BODY_BYTES } from "../config/constants";
import type { AppEnv } from "../env";
import { estimateCredits, modelFor } from "../generations/models";
import { enforcePolicy } from "../generations/policy";
import { toUpstreamRequest } from "../generations/rewrite";
import { parseGenerationRequest } from "../generations/schema";
import { readJsonBody } from "../http/body";
import { tenantState } from "../state/tenant-state";
import { createUpstreamTask, type UpstreamCall } from "../upstream/client";
import type { UpstreamTask } from "../upstream/schema";
import { mintTaskId } from "./ids";
import { presentTask } from "./present";

export function upstreamCall(c: Context<AppEnv>): UpstreamCall {
  return {
    config: c.get("config"),
    log: c.get("log"),
    requestId: c.get("requestId"),
    clientHeaders: c.req.raw.headers,
  };
}

export async function createGeneration(c: Context<AppEnv>): Promise<Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  const body = await readJsonBody(c.req.raw, MAX_BODY_BYTES);
  const request = parseGenerationRequest(body, { allowLocalUrls: config.devAllowLocalUrls });
  enforcePolicy(request, tenant.policy);
  const model = modelFor(request.model);
  const estimate = estimateCredits(model, request);

  const now = Date.now();
  const taskId = await mintTaskId(config.signingSecret, tenant.id, now);
  const token = await signCallbackToken(config.signingSecret, { tenantId: tenant.id, taskId });
  const upstreamBody = toUpstreamRequest(request, { callbackUrl: callbackUrl(config.publicBaseUrl, token) });

  const state = tenantState(c.env, tenant.id);
  await state.beginTask({
    id: taskId,
    sub: sub ?? null,
    model: request.model,
    createdAt: now,
    callbackUrl: request.callback_url ?? null,
    estimate,
    reserved: estimate,
  });
  let upstream: UpstreamTask;
  try {
    upstream = await createUpstreamTask(upstreamCall(c), upstreamBody);
  } catch (err) {
    await state.abortTask(taskId, Date.now());
    throw err;
  }
  await state.attachUpstream(taskId, upstream, Date.now());
  c.get("log").info("task_created", {
    tenant_id: tenant.id,
    task_id: taskId,
    upstream_id: upstream.id,
    estimate,
  });

  const view = presentTask(taskId, upstream, { model: request.model, createdMs: now });
  return c.json({
    ...view,
    usage: {
      billing_rule: "per_second",
      credits_reserved: Math.max(estimate, upstream.usage?.credits_reserved ?? 0),
    },
  });
}
