// POST /v1/videos/generations: validate against the contract and the tenant's policy, estimate the credits,
// admit the request under the tenant's and the user's quotas (recording the task and its reservation, or
// answering a repeated Idempotency-Key), forward with the operator's key, answer with the gateway's task id.
import type { Context } from "hono";
import { callbackUrl, signCallbackToken } from "../callbacks/token";
import { MAX_BODY_BYTES } from "../config/constants";
import type { AppEnv } from "../env";
import { modelFor } from "../generations/models";
import { enforcePolicy } from "../generations/policy";
import { toUpstreamRequest } from "../generations/rewrite";
import { type GenerationRequest, parseGenerationRequest } from "../generations/schema";
import { readJsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import type { AdmitResult } from "../quota/admission";
import { rateLimitHeaders } from "../quota/headers";
import {
  type IdempotencyClaim,
  parseIdempotencyKey,
  requestHash,
  upstreamIdempotencyKey,
} from "../quota/idempotency";
import { estimate as estimateCredits } from "../quota/pricing";
import { refusalError } from "../quota/refusal";
import { replayed, storedFailure, waitForFirst } from "../quota/replay";
import { limitsOf, quotaStore, type QuotaStore } from "../quota/store";
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

/** A validated request on its way through admission and forwarding. */
interface Creation {
  request: GenerationRequest;
  estimate: number;
  claim: IdempotencyClaim | null;
  now: number;
  quota: QuotaStore;
}

type Admitted = Extract<AdmitResult, { kind: "admitted" }>;

export async function createGeneration(c: Context<AppEnv>): Promise<Response> {
  const { tenant } = c.get("principal");
  const config = c.get("config");
  const key = parseIdempotencyKey(c.req.header("idempotency-key"));
  const body = await readJsonBody(c.req.raw, MAX_BODY_BYTES);
  const request = parseGenerationRequest(body, { allowLocalUrls: config.devAllowLocalUrls });
  enforcePolicy(request, tenant.policy);
  const creation: Creation = {
    request,
    estimate: estimateCredits(modelFor(request.model), request, config.pricing),
    claim: key === undefined ? null : { key, hash: await requestHash(body) },
    now: Date.now(),
    quota: quotaStore(config.quotaStore, c.env, tenant.id),
  };
  const admission = await admit(c, creation);
  return admission instanceof Response ? admission : forward(c, creation, admission);
}

/** Admits the request, or answers it: a quota refusal, an idempotency conflict, a replayed answer. */
async function admit(c: Context<AppEnv>, x: Creation): Promise<Admitted | Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  const admission = await x.quota.admit({
    task: {
      id: await mintTaskId(config.signingSecret, tenant.id, x.now),
      sub: sub ?? null,
      model: x.request.model,
      createdAt: x.now,
      callbackUrl: x.request.callback_url ?? null,
      estimate: x.estimate,
      reserved: x.estimate,
      quotaStore: x.quota.name,
    },
    limits: limitsOf(tenant),
    idempotency: x.claim,
  });
  switch (admission.kind) {
    case "admitted":
      return admission;
    case "refused": {
      const { limit, scope } = admission.refusal;
      c.get("log").info("quota_refused", { tenant_id: tenant.id, limit, scope });
      throw refusalError(admission.refusal, rateLimitHeaders(admission.scopes, x.now));
    }
    case "conflict":
      throw new ApiError(
        "idempotency_conflict",
        "This Idempotency-Key was used with a different request body",
        {
          param: "Idempotency-Key",
        },
      );
    case "replay":
      return replayed(c, admission.response);
    case "in_progress": {
      const state = tenantState(c.env, tenant.id);
      const check = () => state.idempotencyWait(sub ?? null, x.claim!.key, Date.now());
      return replayed(c, await waitForFirst(check, config.upstreamTimeoutMs));
    }
  }
}

/** Forwards an admitted request; a failure before the upstream's task id comes back releases it. */
async function forward(c: Context<AppEnv>, x: Creation, admission: Admitted): Promise<Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  const log = c.get("log");
  const state = tenantState(c.env, tenant.id);
  const taskId = admission.taskId;
  const token = await signCallbackToken(config.signingSecret, { tenantId: tenant.id, taskId });
  const body = toUpstreamRequest(x.request, { callbackUrl: callbackUrl(config.publicBaseUrl, token) });
  const upstreamKey = x.claim
    ? await upstreamIdempotencyKey(
        config.signingSecret,
        tenant.id,
        sub ?? null,
        x.claim.key,
        admission.idempotencyEpoch!,
      )
    : undefined;
  let upstream: UpstreamTask;
  try {
    upstream = await createUpstreamTask(upstreamCall(c), body, upstreamKey);
  } catch (err) {
    await state.abortTask(taskId, Date.now(), x.claim ? storedFailure(err) : undefined);
    throw err;
  }

  const reserved = Math.max(x.estimate, upstream.usage?.credits_reserved ?? 0);
  const view = {
    ...presentTask(taskId, upstream, { model: x.request.model, createdMs: x.now }),
    usage: { billing_rule: "per_second", credits_reserved: reserved },
  };
  const stored = x.claim ? { status: 200, body: JSON.stringify(view) } : undefined;
  if (!(await state.attachUpstream(taskId, upstream, Date.now(), stored)))
    log.error("task_attach_lost", { tenant_id: tenant.id, task_id: taskId, upstream_id: upstream.id });
  if (reserved > x.estimate) await x.quota.raised(sub ?? null, taskId, reserved, x.now);
  log.info("task_created", {
    tenant_id: tenant.id,
    task_id: taskId,
    upstream_id: upstream.id,
    estimate: x.estimate,
    reserved,
  });
  return c.json(view, 200, rateLimitHeaders(admission.scopes, x.now));
}
