// OpenAPI operations of src/tasks/list-routes.ts: the caller's task list and the operator's task views.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { TaskDeletedSchema } from "./routes.openapi";
import { TaskStatus } from "../upstream/schema";
import { AdminTaskListQuerySchema, TaskListQuerySchema } from "./list-query";
import { TENANT_ID_PATH } from "../tenants/query";

const TenantItem = z.object({
  id: z.string(),
  status: TaskStatus,
  model: z.string(),
  progress: z.number().min(0).max(100),
  created: z.int().describe("Unix seconds."),
  credits_reserved: z.number().describe("Credits held for the task (kept after it ends)."),
  credits_used: z.number().nullable().describe("Credits charged when it ended; null while it runs."),
  has_results: z.boolean(),
  has_error: z.boolean(),
});
const AdminItem = TenantItem.extend({ sub: z.string().nullable(), upstream_id: z.string().nullable() });

const page = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    total: z.int().describe("Tasks matching the filters (capped at 10000 with a creation-time range)."),
    page: z.int(),
    page_size: z.int(),
    total_exact: z.boolean().describe("False when `total` is the cap, not the count."),
  });

const QUERY_DESCRIPTIONS: Record<string, string> = {
  status: "Only tasks in this status.",
  model: "Only tasks of this model.",
  created_after: "Only tasks created at or after this time (unix seconds).",
  created_before: "Only tasks created before this time (unix seconds).",
  page: "1-based page; (page − 1) × page_size may not pass 10000 (narrow with created_before instead).",
  page_size: "Tasks per page, at most 100.",
  type: "Accepted for EvoLink's CLI; every task here is `video` (other values list nothing).",
  sub: "Only this end user's tasks.",
};

const ITEM_EXAMPLE = {
  id: "task-unified-ujzdegxdncf32epf3dhodzdocis2jhtlgmxgedn73u55xtplpft7v4seh2kvj72ceuvw75efr6edt4sywb5wkh7dnsipzz7fk4zri3r2wyojfljooa7",
  status: "completed",
  model: "wan2.6-reference-video-flash",
  progress: 100,
  created: 1764700000,
  credits_reserved: 23.8,
  credits_used: 23.8,
  has_results: true,
  has_error: false,
};

/** The operator's routes on one of a tenant's tasks. */
const ADMIN_TASK_PATH = {
  ...TENANT_ID_PATH,
  task_id: { schema: z.string(), description: "The gateway's task id." },
};

export const taskListOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "get",
    path: "/v1/tasks",
    operationId: "listTasks",
    summary: "List your tasks",
    description:
      "Newest first. A token with `sub` sees only that user's tasks; a token without `sub` sees all of the tenant's. The shape is EvoLink's own task list (its CLI works unchanged).",
    tag: "Tasks",
    security: "tenant",
    query: TaskListQuerySchema,
    queryDescriptions: QUERY_DESCRIPTIONS,
    responses: {
      200: {
        description: "A page of tasks.",
        schema: page(TenantItem),
        example: { data: [ITEM_EXAMPLE], total: 1, page: 1, page_size: 20, total_exact: true },
      },
    },
    errors: ["invalid_request"],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants/{tenant_id}/tasks",
    operationId: "adminListTasks",
    summary: "List a tenant's tasks",
    description:
      "Newest first, every user's unless `sub` is given; the same filters and paging as GET /v1/tasks.",
    tag: "Tasks",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    query: AdminTaskListQuerySchema,
    queryDescriptions: QUERY_DESCRIPTIONS,
    responses: {
      200: {
        description: "A page of tasks.",
        schema: page(AdminItem),
        example: {
          data: [{ ...ITEM_EXAMPLE, sub: "user-42", upstream_id: "task-unified-1764700001-x7k2m9qa" }],
          total: 1,
          page: 1,
          page_size: 20,
          total_exact: true,
        },
      },
    },
    errors: ["invalid_request", "tenant_not_found"],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants/{tenant_id}/tasks/{task_id}",
    operationId: "adminGetTask",
    summary: "Get one of a tenant's tasks",
    description: "From the gateway's record (EvoLink is not asked).",
    tag: "Tasks",
    security: "admin",
    pathParams: ADMIN_TASK_PATH,
    responses: {
      200: {
        description: "The task as the gateway recorded it; null where unknown.",
        schema: z.object({
          id: z.string(),
          upstream_id: z.string().nullable(),
          sub: z.string().nullable(),
          status: TaskStatus,
          model: z.string(),
          progress: z.number(),
          created: z.int(),
          updated: z.int(),
          ended: z.int().nullable(),
          credits_reserved: z.number(),
          credits_used: z.number().nullable(),
          callback_url: z.string().nullable(),
          error: z.object({ code: z.string(), message: z.string() }).nullable(),
          results_stored: z
            .boolean()
            .nullable()
            .describe(
              "Kept results: true once every result is in the operator's bucket; false while a copy is pending, or when the storage limit refused one (its URL streams from EvoLink while EvoLink's link lives) or the link died first; null when the task keeps none.",
            ),
          results_not_stored: z
            .enum(["copy_pending", "storage_limit", "link_lost"])
            .nullable()
            .describe(
              "Why `results_stored` is false: a copy still to come, one the storage limit refused, or one whose upstream link died before it was copied (the first that applies); null otherwise.",
            ),
        }),
      },
    },
    errors: ["tenant_not_found", "task_not_found"],
  },
  {
    api: "admin",
    method: "delete",
    path: "/admin/tenants/{tenant_id}/tasks/{task_id}",
    operationId: "adminDeleteTask",
    summary: "Delete one of a tenant's ended tasks and its kept results",
    description:
      "What DELETE /v1/tasks/{task_id} does, for any of the tenant's users: the kept results are deleted from the operator's bucket at once and the record is erased (the credits it used stay in the ledger); then its id and its result URLs answer 404. A task still running is 409 `task_in_flight`.",
    tag: "Tasks",
    security: "admin",
    pathParams: ADMIN_TASK_PATH,
    responses: {
      200: {
        description: "Deleted.",
        schema: TaskDeletedSchema,
      },
    },
    errors: ["tenant_not_found", "task_not_found", "task_in_flight"],
  },
];
