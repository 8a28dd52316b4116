// GET /v1/tasks/{id}, the tenant-facing task read (creation is src/generations/routes.ts). A poll happens at the
// edge: the task id is an envelope (./ids.ts) that names the task's row, its upstream id, its creator and its
// creation time, bound to the tenant's incarnation, so a GET opens it, checks the caller, and asks the
// upstream — no Durable Object call and no KV read while the task runs. Once a task has ended, its view is
// the gateway's own and final: its object's record (the snapshot of the end), kept in the location's cache
// (./poll-cache.ts); the upstream is not asked again. The poll that first sees an end tells the object (one
// call) and answers with its record, kept results as the gateway's signed URLs (src/results, ./answer.ts).
// Every miss is the same 404, so a task of another tenant or user is indistinguishable from none.
import { Hono } from "hono";
import type { Context } from "hono";
import type { TenantEnv } from "../auth/principal";
import { TASK_RECORD_FIRST_AFTER_MS } from "../config/constants";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { getUpstreamTask, upstreamCall } from "../upstream/client";
import { TERMINAL_STATUSES, type UpstreamTask } from "../upstream/schema";
import { answerScope, type Final, finalView, keepFinal, reportEnd } from "./answer";
import { openTaskId, type TaskIdClaims, visibleTo } from "./ids";
import { cachedPoll, cacheLive, forgetPoll } from "./poll-cache";
import { presentTask, type TenantTaskView } from "./present";
import type { TaskRecord } from "./table";

const notFound = () =>
  new ApiError("task_not_found", "The requested task could not be found", { param: "task_id" });

/** The claims of a task id the caller may see, or null (foreign, forged, old or malformed) — no storage read. */
export async function openVisible(c: Context<TenantEnv>, taskId: string): Promise<TaskIdClaims | null> {
  const { tenant, sub } = c.get("principal");
  const binding = { tenantId: tenant.id, incarnation: tenant.incarnation };
  const claims = await openTaskId(c.get("config").signingSecret, binding, taskId);
  return claims && (await visibleTo(claims, sub)) ? claims : null;
}

/** The claims of a task id the caller may see, or the uniform 404 — without any storage read. */
export async function visibleTask(c: Context<TenantEnv>, taskId: string): Promise<TaskIdClaims> {
  const claims = await openVisible(c, taskId);
  if (!claims) throw notFound();
  return claims;
}

const objectOf = (c: Context<TenantEnv>) => tenantObject(c.env, c.get("principal").tenant);

export const taskRoutes = new Hono<TenantEnv>();

taskRoutes.get("/tasks/:id", async (c) => {
  const id = c.req.param("id");
  const view = await readTask(c, id, await visibleTask(c, id));
  if (!view) throw notFound();
  return c.json(view);
});

/**
 * One task as its caller sees it, from its opened id: GET /v1/tasks/{id} and each id of POST /v1/tasks/batch
 * (./batch.ts) read it here, so both answer alike. Null where GET answers 404 (a deleted task, or one neither
 * the upstream nor its record can show); an upstream failure throws its ApiError.
 */
export async function readTask(
  c: Context<TenantEnv>,
  id: string,
  claims: TaskIdClaims,
): Promise<TenantTaskView | null> {
  const config = c.get("config");
  const cached = await cachedPoll(config, id, Date.now());
  if (cached) return cached;

  // On a cache miss (another location, an eviction), an old task is looked up in its object first: it has
  // most likely ended, and then its record answers. A young one skips this, so a live poll costs no object call.
  let record: TaskRecord | null | undefined;
  if (Date.now() - claims.createdSec * 1000 >= TASK_RECORD_FIRST_AFTER_MS) {
    record = await objectOf(c).getTask(claims.row);
    if (record?.state === "deleted") return null;
    const final = await finalView(answerScope(c), id, record);
    if (final) return kept(c, id, final);
  }

  let upstream: UpstreamTask;
  try {
    upstream = await getUpstreamTask(upstreamCall(c), claims.upstreamId);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === "task_not_found")) throw err;
    // The upstream no longer knows the task (its record expired there): only an ended record answers; a
    // live task the upstream forgot is the sweeper's to settle (as lost).
    if (record === undefined) record = await objectOf(c).getTask(claims.row);
    const final = await finalView(answerScope(c), id, record);
    return final ? kept(c, id, final) : null;
  }
  const view = presentTask(id, upstream, { model: claims.model, createdMs: claims.createdSec * 1000 });
  const now = Date.now();
  if (TERMINAL_STATUSES.has(upstream.status)) {
    // The object settles, writes the outbox and records the end exactly once, whoever reports it first;
    // the record it answers with is the task's final view (kept results as the gateway's URLs), answered now
    // and kept by the cache from then on. One object call, once per task and location.
    const ended = await reportEnd(answerScope(c), id, claims.row, upstream, now).catch((err: unknown) => {
      c.get("log").error("task_end_report_failed", { task_id: id, error: String(err) });
      return null;
    });
    if (ended?.record?.state === "deleted") return null;
    if (ended?.final) return ended.final.view;
  } else c.executionCtx.waitUntil(cacheLive(config, id, view, now));
  return view;
}

// DELETE /v1/tasks/{id}: an ended task its owner (or a token without `sub`) may see. Its kept results are
// deleted (the R2 objects at once), its record erased down to the accounting the ledger keeps; then its id and
// its result URLs answer 404. A task in flight is 409 `task_in_flight` (it would be billed and end anyway).
taskRoutes.delete("/tasks/:id", async (c) => {
  const id = c.req.param("id");
  const claims = await visibleTask(c, id);
  const { sub } = c.get("principal");
  const outcome = await objectOf(c).deleteTask(claims.row, sub ?? null, Date.now());
  if (outcome === "in_flight")
    throw new ApiError("task_in_flight", "The task is still running; delete it once it has ended", {
      param: "task_id",
    });
  if (outcome === "not_found") throw notFound();
  // This location's cached view goes now; another location's within TASK_FINAL_CACHE_MS.
  c.executionCtx.waitUntil(forgetPoll(c.get("config"), id));
  return c.json({ id, object: "video.generation.task", deleted: true });
});

/** A final view from the record, kept in the location's cache after the answer. */
function kept(c: Context<TenantEnv>, id: string, final: Final): TenantTaskView {
  c.executionCtx.waitUntil(keepFinal(answerScope(c), id, final));
  return final.view;
}
