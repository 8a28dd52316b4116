// POST /v1/videos/generations: validate against the contract and the tenant's policy, estimate the credits,
// admit the request under the tenant's and the user's quotas (recording the task and its reservation, or
// answering a repeated Idempotency-Key), forward with the operator's key, answer with the gateway's task id.
// With QUOTA_STORE=durable_object admission, forwarding and attach are one RPC (./create-rpc.ts); the `kv`
// store keeps two steps, since its decision is made in the Worker from KV before the object is called and
// its counters are raised from the Worker after the upstream answers.
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
import type { AdmitRequest, AdmitResult } from "../quota/admission";
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
import { EVOLINK } from "../upstream/providers";
import type { UpstreamTask } from "../upstream/schema";
import { apiErrorFrom, type CreateResult } from "./create-rpc";
import { mintTaskId } from "./ids";
import { presentTask } from "./present";
import { ownedUploads } from "../files/ownership";

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
  /** Gateway-uploaded files among `video_urls` (src/files), already checked to be the caller's. */
  uploads: string[];
}

type Admitted = Extract<AdmitResult, { kind: "admitted" }>;
type Answered = Exclude<AdmitResult, { kind: "admitted" }>;
type Created = Extract<CreateResult, { kind: "created" }>;

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
    uploads: await ownedUploads(request.video_urls, c.get("principal"), config, Date.now()),
  };
  const admission = await admissionRequest(c, creation);
  if (creation.quota.name === "durable_object") return createInObject(c, creation, admission);
  const admitted = await creation.quota.admit(admission);
  return admitted.kind === "admitted" ? forward(c, creation, admitted) : answer(c, creation, admitted);
}

/** The task to record and the limits and Idempotency-Key to admit it under. */
async function admissionRequest(c: Context<AppEnv>, x: Creation): Promise<Omit<AdmitRequest, "enforce">> {
  const { tenant, sub } = c.get("principal");
  return {
    task: {
      id: await mintTaskId(c.get("config").signingSecret, tenant.id, x.now),
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
  };
}

/** One round trip: the tenant's object admits, calls the upstream and attaches (src/tasks/create-rpc.ts). */
async function createInObject(
  c: Context<AppEnv>,
  x: Creation,
  admission: Omit<AdmitRequest, "enforce">,
): Promise<Response> {
  const forwardHeaders: Record<string, string> = {};
  for (const name of EVOLINK.forwardHeaders) {
    const value = c.req.header(name);
    if (value) forwardHeaders[name] = value;
  }
  // The stub's RPC typing loses the `created` variant (its view has `unknown` fields); it is a CreateResult.
  const result = (await tenantState(c.env, c.get("principal").tenant.id).create({
    admission,
    body: await upstreamBody(c, x, admission.task.id),
    requestId: c.get("requestId"),
    forwardHeaders,
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

/** The upstream's request body, with the gateway's signed callback URL for `taskId`. */
async function upstreamBody(c: Context<AppEnv>, x: Creation, taskId: string) {
  const config = c.get("config");
  const tenantId = c.get("principal").tenant.id;
  const token = await signCallbackToken(config.signingSecret, { tenantId, taskId });
  return toUpstreamRequest(x.request, { callbackUrl: callbackUrl(config.publicBaseUrl, token) });
}

/** Answers a request that was not admitted: a quota refusal, an idempotency conflict, a replayed answer. */
async function answer(c: Context<AppEnv>, x: Creation, admission: Answered): Promise<Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  switch (admission.kind) {
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

/** `kv` store: forwards an admitted request; a failure before the upstream's task id comes back releases it. */
async function forward(c: Context<AppEnv>, x: Creation, admission: Admitted): Promise<Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  const log = c.get("log");
  const state = tenantState(c.env, tenant.id);
  const taskId = admission.taskId;
  const body = await upstreamBody(c, x, taskId);
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
  const { scopes } = admission;
  return created(c, x, { kind: "created", taskId, upstreamId: upstream.id, view, scopes, reserved });
}

/** The created task, logged and rendered with the RateLimit fields of its admission. */
async function created(c: Context<AppEnv>, x: Creation, result: Created): Promise<Response> {
  const { tenant } = c.get("principal");
  if (x.uploads.length > 0 && tenant.policy?.delete_uploads_after_task)
    await tenantState(c.env, tenant.id).filesLinkTask(result.taskId, x.uploads, Date.now());
  c.get("log").info("task_created", {
    tenant_id: c.get("principal").tenant.id,
    task_id: result.taskId,
    upstream_id: result.upstreamId,
    estimate: x.estimate,
    reserved: result.reserved,
  });
  return c.json(result.view, 200, rateLimitHeaders(result.scopes, x.now));
}
