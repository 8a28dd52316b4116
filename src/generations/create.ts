// POST /v1/videos/generations: validate against the contract and the tenant's policy, estimate the credits,
// then one RPC to the tenant's Durable Object, which admits the request under the tenant's and the user's
// quotas (or answers a repeated Idempotency-Key), forwards it with the operator's key and records the task
// (./create-rpc.ts). The object is the only authority for admission; the edge only refuses early what the
// object already refused (src/quota/edge-refusals.ts).
import type { Context } from "hono";
import { callbackUrl, signCallbackToken } from "../callbacks/token";
import { MAX_BODY_BYTES } from "../config/constants";
import type { TenantEnv } from "../auth/principal";
import { modelFor } from "../upstream/models";
import { enforcePolicy } from "./policy";
import { toUpstreamRequest } from "./rewrite";
import { type GenerationRequest, parseGenerationRequest } from "./schema";
import { readJsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import type { AdmitRequest } from "../quota/admission";
import { edgeRefusal, rememberRefusal } from "../quota/edge-refusals";
import { rateLimitHeaders } from "../quota/headers";
import { type IdempotencyClaim, parseIdempotencyKey, requestHash } from "../idempotency/keys";
import { limitsOf } from "../quota/limits";
import { retentionDays } from "../results/retention";
import { estimate as estimateCredits } from "./pricing";
import { refusalError } from "../quota/refusal";
import { replayed, waitForFirst } from "../idempotency/replay";
import { objectName, tenantObject } from "../state/client";
import { EVOLINK } from "../upstream/providers";
import { apiErrorFrom, type CreateResult } from "./create-rpc";
import { newRowId } from "../tasks/ids";
import { ownedUploads } from "../files/ownership";

/** A validated request on its way through admission and forwarding. */
interface Creation {
  request: GenerationRequest;
  estimate: number;
  claim: IdempotencyClaim | null;
  now: number;
  /** Gateway-uploaded files among `video_urls` (src/files), already checked to be the caller's. */
  uploads: string[];
  /** Days the task's results are kept after its end (src/results/retention.ts). */
  retentionDays: number;
}

type Answered = Exclude<CreateResult, { kind: "created" | "failed" }>;
type Created = Extract<CreateResult, { kind: "created" }>;

export async function createGeneration(c: Context<TenantEnv>): Promise<Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  const key = parseIdempotencyKey(c.req.header("idempotency-key"));
  const { body, request } = await readGeneration(c);
  const now = Date.now();
  const limits = limitsOf(tenant);
  // A repeated Idempotency-Key may be answered with its first result whatever the limits say: the object decides.
  const early = key === undefined ? edgeRefusal(objectName(tenant), sub ?? null, limits, now) : null;
  if (early) {
    c.get("log").info("quota_refused", {
      tenant_id: tenant.id,
      limit: early.refusal.limit,
      scope: early.refusal.scope,
      edge: true,
    });
    throw refusalError(early.refusal, rateLimitHeaders(early.scopes, now));
  }

  const x: Creation = {
    request,
    estimate: estimateCredits(modelFor(request.model), request, config.pricing),
    claim: key === undefined ? null : { key, hash: await requestHash(body) },
    now,
    uploads: await ownedUploads(request.video_urls, c.get("principal"), config, now),
    retentionDays: retentionDays(tenant, config),
  };
  const admission = admissionOf(x, limits, sub ?? null);
  // The stub's RPC typing loses the `created` variant (its view has `unknown` fields); it is a CreateResult.
  const result = (await tenantObject(c.env, tenant).create({
    admission,
    body: await upstreamBody(c, x, admission.task.id),
    requestId: c.get("requestId"),
    forwardHeaders: forwardedHeaders(c),
    // The files this task uses are released when it ends (policy.delete_uploads_after_task).
    linkUploads: tenant.policy?.delete_uploads_after_task ? x.uploads : [],
  })) as CreateResult;
  switch (result.kind) {
    case "created":
      return created(c, x, result);
    case "failed":
      throw apiErrorFrom(result.error);
    default:
      return answer(c, x, result);
  }
}

/**
 * The body read and checked against the model's contract and the tenant's policy: what a generation and
 * its estimate (./estimate.ts) both start with, so they refuse the same bodies with the same errors.
 */
export async function readGeneration(
  c: Context<TenantEnv>,
): Promise<{ body: unknown; request: GenerationRequest }> {
  const config = c.get("config");
  const body = await readJsonBody(c.req.raw, MAX_BODY_BYTES);
  const request = parseGenerationRequest(body, {
    allowLocalUrls: config.devAllowLocalUrls,
    publicBaseUrl: config.publicBaseUrl,
  });
  enforcePolicy(request, c.get("principal").tenant);
  return { body, request };
}

/** What the tenant's object admits: the task row to write, with its reservation, under these limits. */
function admissionOf(x: Creation, limits: AdmitRequest["limits"], sub: string | null): AdmitRequest {
  const { request } = x;
  return {
    task: {
      id: newRowId(),
      sub,
      model: request.model,
      createdAt: x.now,
      callbackUrl: request.callback_url ?? null,
      estimate: x.estimate,
      reserved: x.estimate,
      retentionDays: x.retentionDays,
    },
    limits,
    idempotency: x.claim,
  };
}

/** The client's headers the provider allows through (EVOLINK.forwardHeaders). */
function forwardedHeaders(c: Context<TenantEnv>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of EVOLINK.forwardHeaders) {
    const value = c.req.header(name);
    if (value) out[name] = value;
  }
  return out;
}

/** The upstream's request body, with the gateway's signed callback URL for the task's row. */
async function upstreamBody(c: Context<TenantEnv>, x: Creation, taskId: string) {
  const config = c.get("config");
  const { tenant } = c.get("principal");
  const token = await signCallbackToken(config.signingSecret, {
    tenantId: tenant.id,
    incarnation: tenant.incarnation,
    taskId,
  });
  return toUpstreamRequest(x.request, { callbackUrl: callbackUrl(config.publicBaseUrl, token) });
}

/** Answers a request that was not admitted: a quota refusal, an idempotency conflict, a replayed answer. */
async function answer(c: Context<TenantEnv>, x: Creation, admission: Answered): Promise<Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  switch (admission.kind) {
    case "refused": {
      const { limit, scope } = admission.refusal;
      c.get("log").info("quota_refused", { tenant_id: tenant.id, limit, scope });
      rememberRefusal(objectName(tenant), sub ?? null, admission.refusal, admission.scopes, x.now);
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
      const state = tenantObject(c.env, tenant);
      const check = () => state.idempotencyWait(sub ?? null, x.claim!.key, Date.now());
      return replayed(c, await waitForFirst(check, config.upstreamTimeoutMs));
    }
  }
}

/** The created task, logged and rendered with the RateLimit fields of its admission. */
function created(c: Context<TenantEnv>, x: Creation, result: Created): Response {
  c.get("log").info("task_created", {
    tenant_id: c.get("principal").tenant.id,
    task_id: result.taskId,
    upstream_id: result.upstreamId,
    estimate: x.estimate,
    reserved: result.reserved,
  });
  return c.json(result.view, 200, rateLimitHeaders(result.scopes, x.now));
}
