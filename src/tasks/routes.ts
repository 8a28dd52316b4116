// GET /v1/tasks/{id}, the tenant-facing task read (creation is src/generations/routes.ts). A poll happens at the edge: the task id is an envelope (./ids.ts) that
// names the task's row, its upstream id and its creator, bound to the tenant's incarnation, so a GET opens
// it, checks the caller, and asks the upstream — no Durable Object call and no KV read. The object hears of
// a task's end once, after the answer (`waitUntil`), and answers only for tasks the upstream no longer knows.
// Every miss is the same 404, so a task of another tenant or user is indistinguishable from none at all.
import { Hono } from "hono";
import type { Context } from "hono";
import type { TenantEnv } from "../auth/principal";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { getUpstreamTask, upstreamCall } from "../upstream/client";
import { TERMINAL_STATUSES, type UpstreamTask, UpstreamTaskSchema } from "../upstream/schema";
import { openTaskId, type TaskIdClaims, visibleTo } from "./ids";
import { cachedPoll, cachePoll } from "./poll-cache";
import { presentTask } from "./present";

const notFound = () =>
  new ApiError("task_not_found", "The requested task could not be found", { param: "task_id" });

/** The claims of a task id the caller may see, or the uniform 404 — without any storage read. */
export async function visibleTask(c: Context<TenantEnv>, taskId: string): Promise<TaskIdClaims> {
  const { tenant, sub } = c.get("principal");
  const binding = { tenantId: tenant.id, incarnation: tenant.incarnation };
  const claims = await openTaskId(c.get("config").signingSecret, binding, taskId);
  if (!claims || !(await visibleTo(claims, sub))) throw notFound();
  return claims;
}

export const taskRoutes = new Hono<TenantEnv>();

taskRoutes.get("/tasks/:id", async (c) => {
  const id = c.req.param("id");
  const claims = await visibleTask(c, id);
  const config = c.get("config");
  const cached = await cachedPoll(config, id, Date.now());
  if (cached) return c.json(cached);

  const fallback = { model: claims.model, createdMs: claims.createdSec * 1000 };
  let upstream: UpstreamTask;
  try {
    upstream = await getUpstreamTask(upstreamCall(c), claims.upstreamId);
  } catch (err) {
    if (err instanceof ApiError && err.code === "task_not_found")
      return c.json(await recorded(c, id, claims));
    throw err;
  }
  const view = presentTask(id, upstream, fallback);
  const now = Date.now();
  const ended = TERMINAL_STATUSES.has(upstream.status);
  if (ended) {
    // The object settles, writes the outbox and records the end exactly once, whoever reports it first.
    const object = tenantObject(c.env, c.get("principal").tenant);
    c.executionCtx.waitUntil(
      object
        .observe(claims.row, upstream, now)
        .catch((err: unknown) =>
          c.get("log").error("task_end_report_failed", { task_id: id, error: String(err) }),
        ),
    );
  }
  c.executionCtx.waitUntil(cachePoll(config, id, view, ended, now));
  return c.json(view);
});

/** A task the upstream no longer knows (its record expired there): the tenant's object has its last state. */
async function recorded(c: Context<TenantEnv>, id: string, claims: TaskIdClaims) {
  const record = await tenantObject(c.env, c.get("principal").tenant).getTask(claims.row);
  // Only an end is final; a live task the upstream forgot is the sweeper's to settle (as lost).
  if (!record?.snapshot || record.endedAt === null || record.publicId !== id) throw notFound();
  const parsed = UpstreamTaskSchema.safeParse(parseJson(record.snapshot));
  if (!parsed.success) {
    c.get("log").error("task_snapshot_invalid", { task_id: id, issues: parsed.error.issues.length });
    throw notFound();
  }
  return presentTask(id, parsed.data, { model: record.model, createdMs: record.createdAt });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
