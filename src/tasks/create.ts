// POST /v1/videos/generations: validate against the contract and the tenant's policy, estimate the credits,
// admit the request under the tenant's and the user's quotas (recording the task and its reservation, or
// replaying an Idempotency-Key), forward with the operator's key, answer with the gateway's task id.
import type { Context } from "hono";
import { callbackUrl, signCallbackToken } from "../callbacks/token";
import { MAX_BODY_BYTES } from "../config/constants";
import type { AppEnv } from "../env";
import { modelFor } from "../generations/models";
import { enforcePolicy } from "../generations/policy";
import { toUpstreamRequest } from "../generations/rewrite";
import { parseGenerationRequest } from "../generations/schema";
import { readJsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { rateLimitHeaders } from "../quota/headers";
import { parseIdempotencyKey, requestHash, upstreamIdempotencyKey } from "../quota/idempotency";
import { estimate as estimateCredits } from "../quota/pricing";
import { refusalError } from "../quota/refusal";
import { replayed, storedFailure, waitForFirst } from "../quota/replay";
import { limitsOf, quotaStore } from "../quota/store";
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
  const key = parseIdempotencyKey(c.req.header("idempotency-key"));
  const body = await readJsonBody(c.req.raw, MAX_BODY_BYTES);
  const request = parseGenerationRequest(body, { allowLocalUrls: config.devAllowLocalUrls });
  enforcePolicy(request, tenant.policy);
  const estimate = estimateCredits(modelFor(request.model), request, config.pricing);

  const now = Date.now();
  const user = sub ?? null;
  const state = tenantState(c.env, tenant.id);
  const quota = quotaStore(config.quotaStore, c.env, tenant.id);
  const claim = key === undefined ? null : { key, hash: await requestHash(body) };
  const admission = await quota.admit({
    task: {
      id: await mintTaskId(config.signingSecret, tenant.id, now),
      sub: user,
      model: request.model,
      createdAt: now,
      callbackUrl: request.callback_url ?? null,
      estimate,
      reserved: estimate,
      quotaStore: quota.name,
    },
    limits: limitsOf(tenant),
    idempotency: claim,
  });
  switch (admission.kind) {
    case "refused":
      c.get("log").info("quota_refused", {
        tenant_id: tenant.id,
        limit: admission.refusal.limit,
        scope: admission.refusal.scope,
      });
      throw refusalError(admission.refusal, rateLimitHeaders(admission.scopes, now));
    case "conflict":
      throw new ApiError(
        "idempotency_conflict",
        "This Idempotency-Key was used with a different request body",
        { param: "Idempotency-Key" },
      );
    case "replay":
      return replayed(c, admission.response);
    case "in_progress":
      return replayed(
        c,
        await waitForFirst(() => state.idempotencyWait(user, key!, Date.now()), config.upstreamTimeoutMs),
      );
    case "admitted":
      break;
  }

  const taskId = admission.taskId;
  const token = await signCallbackToken(config.signingSecret, { tenantId: tenant.id, taskId });
  const upstreamBody = toUpstreamRequest(request, { callbackUrl: callbackUrl(config.publicBaseUrl, token) });
  const upstreamKey = claim
    ? await upstreamIdempotencyKey(
        config.signingSecret,
        tenant.id,
        user,
        claim.key,
        admission.idempotencyEpoch!,
      )
    : undefined;
  let upstream: UpstreamTask;
  try {
    upstream = await createUpstreamTask(upstreamCall(c), upstreamBody, upstreamKey);
  } catch (err) {
    await state.abortTask(taskId, Date.now(), claim ? storedFailure(err) : undefined);
    throw err;
  }

  const reserved = Math.max(estimate, upstream.usage?.credits_reserved ?? 0);
  const view = {
    ...presentTask(taskId, upstream, { model: request.model, createdMs: now }),
    usage: { billing_rule: "per_second", credits_reserved: reserved },
  };
  const attached = await state.attachUpstream(
    taskId,
    upstream,
    Date.now(),
    claim ? { status: 200, body: JSON.stringify(view) } : undefined,
  );
  if (!attached)
    c.get("log").error("task_attach_lost", {
      tenant_id: tenant.id,
      task_id: taskId,
      upstream_id: upstream.id,
    });
  if (reserved > estimate) await quota.raised(user, taskId, reserved, now);
  c.get("log").info("task_created", {
    tenant_id: tenant.id,
    task_id: taskId,
    upstream_id: upstream.id,
    estimate,
    reserved,
  });
  return c.json(view, 200, rateLimitHeaders(admission.scopes, now));
}
