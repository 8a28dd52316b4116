// The tenant-facing task routes. Ownership is checked twice: the id's MAC binds it to the tenant (no
// storage read for a foreign or forged id), and the record's `sub` binds it to the end user. Every miss
// is the same 404, so a task of another tenant or user is indistinguishable from one that does not exist.
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../http/errors";
import { type TaskRecord, tenantState } from "../state/tenant-state";
import { getUpstreamTask } from "../upstream/client";
import { UpstreamTaskSchema } from "../upstream/schema";
import { createGeneration, upstreamCall } from "./create";
import { isTaskIdOf } from "./ids";
import { presentTask } from "./present";

const notFound = () =>
  new ApiError("task_not_found", "The requested task could not be found", { param: "task_id" });

/** Loads a task the caller may see, or throws the uniform 404. */
export async function visibleTask(c: Context<AppEnv>, taskId: string): Promise<TaskRecord> {
  const { tenant, sub } = c.get("principal");
  if (!(await isTaskIdOf(c.get("config").signingSecret, tenant.id, taskId))) throw notFound();
  const record = await tenantState(c.env, tenant.id).getTask(taskId);
  if (!record || !record.upstreamId || record.state === "creating" || record.state === "aborted")
    throw notFound();
  if (sub !== undefined && record.sub !== sub) throw notFound();
  return record;
}

export const taskRoutes = new Hono<AppEnv>();

taskRoutes.post("/videos/generations", createGeneration);

taskRoutes.get("/tasks/:id", async (c) => {
  const record = await visibleTask(c, c.req.param("id"));
  const fallback = { model: record.model, createdMs: record.createdAt };
  // An ended task no longer changes upstream, and one heard from within TASK_POLL_CACHE_MS has not had time
  // to: serve the recorded state (a tight polling loop costs one upstream query per interval per task).
  const fresh = Date.now() - record.updatedAt < c.get("config").taskPollCacheMs;
  if (record.snapshot && (record.endedAt !== null || fresh)) {
    return c.json(presentTask(record.id, UpstreamTaskSchema.parse(JSON.parse(record.snapshot)), fallback));
  }

  const upstream = await getUpstreamTask(upstreamCall(c), record.upstreamId!);
  await tenantState(c.env, c.get("principal").tenant.id).observe(record.id, upstream, Date.now());
  return c.json(presentTask(record.id, upstream, fallback));
});
