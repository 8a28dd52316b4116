// POST /v1/videos/generations inside the tenant's Durable Object: admission, the upstream call, the task's
// public id and the attach in one RPC, so a request makes one round trip to the object. The Worker keeps
// what needs no tenant state (validation, policy, pricing, signing, rendering).
import { callbackUrl, signCallbackToken } from "../callbacks/token";
import type { Config } from "../config/env";
import type { UpstreamGenerationRequest } from "./rewrite";
import { ApiError, type ErrorData, errorData } from "../http/errors";
import type { Logger } from "../http/log";
import type { AdmitRequest, AdmitResult } from "../quota/admission";
import { type StoredResponse, upstreamIdempotencyKey } from "../idempotency/keys";
import type { ScopeInput } from "../quota/arithmetic";
import { storedFailure } from "../idempotency/replay";
import { createUpstreamTask } from "../upstream/client";
import type { TenantRef } from "../state/client";
import type { UpstreamTask } from "../upstream/schema";
import { sealTaskId, subHash } from "../tasks/ids";
import { presentTask, type TenantTaskView } from "../tasks/present";

// Errors cross the RPC as plain data (src/http/errors.ts), for the Worker to throw again.
export { apiErrorFrom, type ErrorData, errorData } from "../http/errors";

export interface CreateRequest {
  /** What the object admits. */
  admission: AdmitRequest;
  /** The upstream's request body, its callback URL signed by the Worker for `admission.task.id`. */
  body: UpstreamGenerationRequest;
  requestId: string;
  /** The client's headers the provider forwards, already filtered by the Worker. */
  forwardHeaders: Record<string, string>;
  /** Uploaded files (src/files) to release when this task ends; linked once the upstream accepted it. */
  linkUploads: string[];
}

export type CreateResult =
  | {
      kind: "created";
      /** The public id (src/tasks/ids.ts). */
      taskId: string;
      upstreamId: string;
      view: TenantTaskView;
      scopes: ScopeInput[];
      reserved: number;
    }
  | Exclude<AdmitResult, { kind: "admitted" }>
  | { kind: "failed"; error: ErrorData };

/** The object's side: its config and logger, and its own (local, not RPC) admit/abort/attach steps. */
export interface CreateDeps {
  tenant: TenantRef;
  config: Config;
  log: Logger;
  admit(request: AdmitRequest): AdmitResult;
  abort(taskId: string, now: number, failure?: StoredResponse): Promise<void>;
  attach(
    taskId: string,
    publicId: string,
    upstream: UpstreamTask,
    now: number,
    response?: StoredResponse,
  ): Promise<unknown>;
  linkUploads(taskId: string, fileIds: string[], now: number): void;
}

/**
 * Admits (one synchronous step, committed before the upstream is called), forwards, then attaches — or
 * aborts, keeping the failure for idempotent duplicates. Other requests interleave during the fetch.
 */
export async function createInObject(d: CreateDeps, req: CreateRequest): Promise<CreateResult> {
  const admission = d.admit(req.admission);
  if (admission.kind !== "admitted") return admission;
  const { task, idempotency } = req.admission;
  const taskId = admission.taskId;
  let upstream: UpstreamTask;
  try {
    const body = await bodyFor(d, req.body, taskId, task.id);
    const upstreamKey = idempotency
      ? await upstreamIdempotencyKey(
          d.config.signingSecret,
          d.tenant.id,
          task.sub,
          idempotency.key,
          admission.idempotencyEpoch!,
        )
      : undefined;
    const call = {
      config: d.config,
      log: d.log,
      requestId: req.requestId,
      clientHeaders: new Headers(req.forwardHeaders),
    };
    upstream = await createUpstreamTask(call, body, upstreamKey);
  } catch (err) {
    await d.abort(taskId, Date.now(), idempotency ? storedFailure(err) : undefined);
    if (err instanceof ApiError) return { kind: "failed", error: errorData(err) };
    throw err;
  }

  const reserved = Math.max(task.estimate, upstream.usage?.credits_reserved ?? 0);
  const publicId = await sealTaskId(
    d.config.signingSecret,
    { tenantId: d.tenant.id, incarnation: d.tenant.incarnation },
    {
      row: taskId,
      upstreamId: upstream.id,
      subHash: task.sub === null ? null : await subHash(task.sub),
      createdSec: Math.floor(task.createdAt / 1000),
      model: task.model,
    },
  );
  const view = {
    ...presentTask(publicId, upstream, { model: task.model, createdMs: task.createdAt }),
    usage: { billing_rule: "per_second", credits_reserved: reserved },
  };
  const stored = idempotency ? { status: 200, body: JSON.stringify(view) } : undefined;
  if (!(await d.attach(taskId, publicId, upstream, Date.now(), stored)))
    d.log.error("task_attach_lost", { tenant_id: d.tenant.id, task_id: publicId, upstream_id: upstream.id });
  else if (req.linkUploads.length > 0) d.linkUploads(taskId, req.linkUploads, Date.now());
  return {
    kind: "created",
    taskId: publicId,
    upstreamId: upstream.id,
    view,
    scopes: admission.scopes,
    reserved,
  };
}

/** A retry of a failed idempotent attempt reuses that attempt's task id: its callback URL is signed anew. */
async function bodyFor(
  d: CreateDeps,
  body: UpstreamGenerationRequest,
  taskId: string,
  signedFor: string,
): Promise<UpstreamGenerationRequest> {
  if (taskId === signedFor || body.callback_url === undefined) return body;
  const token = await signCallbackToken(d.config.signingSecret, {
    tenantId: d.tenant.id,
    incarnation: d.tenant.incarnation,
    taskId,
  });
  return { ...body, callback_url: callbackUrl(d.config.publicBaseUrl, token) };
}
