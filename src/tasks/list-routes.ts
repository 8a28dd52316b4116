// The task lists over HTTP: GET /v1/tasks (the caller's tasks: its own with a `sub`, the tenant's without)
// and, for operators, GET /admin/tenants/{tenant_id}/tasks and GET and DELETE /tasks/{task_id}. The query schemas here are the
// ones the OpenAPI documents describe (./list-query.ts, src/tasks/list-routes.openapi.ts).
import { Hono } from "hono";
import type { Context } from "hono";
import type * as z from "zod";
import { TASK_LIST_MAX_OFFSET } from "../config/constants";
import type { HttpEnv } from "../http/context";
import type { TenantEnv } from "../auth/principal";
import { ApiError } from "../http/errors";
import { type TenantRef, tenantObject } from "../state/client";
import { query } from "../http/validate";
import type { AdminEnv } from "../tenants/admin";
import { openTaskId } from "./ids";
import { adminTaskView, type TaskListItem, type TaskListPage } from "./list";
import { forgetPoll } from "./poll-cache";
import { AdminTaskListQuerySchema, TaskListQuerySchema } from "./list-query";

export type ListQuery = z.infer<typeof AdminTaskListQuerySchema> & { type?: string };

/** A page past TASK_LIST_MAX_OFFSET is refused: deep offsets are slow scans, `created_before` is not. */
export function withinReach<T extends ListQuery>(q: T): T {
  if ((q.page - 1) * q.page_size > TASK_LIST_MAX_OFFSET)
    throw new ApiError(
      "invalid_request",
      `page reaches past the ${TASK_LIST_MAX_OFFSET}th task; narrow the list with created_before instead`,
      { param: "page" },
    );
  return q;
}

export async function listPage<E extends HttpEnv>(
  c: Context<E>,
  tenant: TenantRef,
  sub: string | null,
  q: ListQuery,
) {
  const empty: TaskListPage = { data: [], total: 0, totalExact: true };
  const page =
    q.type !== undefined && q.type !== "video"
      ? empty
      : await tenantObject(c.env, tenant).listTasks({
          sub,
          status: q.status ?? null,
          model: q.model ?? null,
          createdFrom: q.created_after === undefined ? null : q.created_after * 1000,
          createdTo: q.created_before === undefined ? null : q.created_before * 1000,
          offset: (q.page - 1) * q.page_size,
          limit: q.page_size,
        });
  return { page, meta: { page: q.page, page_size: q.page_size } };
}

function tenantItem({ sub: _sub, upstream_id: _upstream, ...item }: TaskListItem) {
  return item;
}

export const taskListRoutes = new Hono<TenantEnv>();

taskListRoutes.get("/tasks", query(TaskListQuerySchema), async (c) => {
  const { tenant, sub } = c.get("principal");
  const q = withinReach(c.req.valid("query"));
  const { page, meta } = await listPage(c, tenant, sub ?? null, q);
  return c.json(
    { data: page.data.map(tenantItem), total: page.total, ...meta, total_exact: page.totalExact },
    200,
    { "cache-control": "no-store" },
  );
});

export const adminTaskRoutes = new Hono<AdminEnv>();

adminTaskRoutes.get("/:tenant_id/tasks", query(AdminTaskListQuerySchema), async (c) => {
  const q = withinReach(c.req.valid("query"));
  const { page, meta } = await listPage(c, c.get("tenant"), q.sub ?? null, q);
  return c.json({ data: page.data, total: page.total, ...meta, total_exact: page.totalExact });
});

adminTaskRoutes.get("/:tenant_id/tasks/:task_id", async (c) => {
  const found = await tenantObject(c.env, c.get("tenant")).adminTask(c.req.param("task_id"));
  const view = found && adminTaskView(found.record, found.resultStates);
  if (!view) throw new ApiError("task_not_found", "No such task", { param: "task_id" });
  return c.json(view);
});

// DELETE /admin/tenants/{tenant_id}/tasks/{task_id}: what DELETE /v1/tasks/{id} does, for any of the tenant's
// users (an operator acting on a user's request to erase a video). The id opens with the tenant's incarnation;
// one that does not is the same 404 as a task that is gone.
adminTaskRoutes.delete("/:tenant_id/tasks/:task_id", async (c) => {
  const id = c.req.param("task_id");
  const tenant = c.get("tenant");
  const binding = { tenantId: tenant.id, incarnation: tenant.incarnation };
  const claims = await openTaskId(c.get("config").signingSecret, binding, id);
  const outcome = claims
    ? await tenantObject(c.env, tenant).deleteTask(claims.row, null, Date.now())
    : "not_found";
  if (outcome === "in_flight")
    throw new ApiError("task_in_flight", "The task is still running; delete it once it has ended", {
      param: "task_id",
    });
  if (outcome === "not_found") throw new ApiError("task_not_found", "No such task", { param: "task_id" });
  // This location's cached view goes now; another location's within TASK_FINAL_CACHE_MS.
  c.executionCtx.waitUntil(forgetPoll(c.get("config"), id));
  return c.json({ id, object: "video.generation.task", deleted: true });
});
