// The query strings of the task lists, as zod schemas: the routes (./list-routes.ts) parse with them and
// the OpenAPI documents are generated from them (./list-routes.openapi.ts).
import * as z from "zod";
import { TASK_LIST_PAGE_DEFAULT, TASK_LIST_PAGE_MAX } from "../config/constants";
import { TaskStatus } from "../upstream/schema";

const UnixSeconds = z.coerce.number<string>().int().min(0).max(99_999_999_999);

const listQueryShape = {
  status: TaskStatus.optional(),
  model: z.string().min(1).max(100).optional(),
  created_after: UnixSeconds.optional(),
  created_before: UnixSeconds.optional(),
  page: z.coerce.number<string>().int().min(1).default(1),
  page_size: z.coerce.number<string>().int().min(1).max(TASK_LIST_PAGE_MAX).default(TASK_LIST_PAGE_DEFAULT),
};

/** GET /v1/tasks's query. `type` is accepted for EvoLink's CLI; this gateway's tasks are all `video`. */
export const TaskListQuerySchema = z.strictObject({
  ...listQueryShape,
  type: z.enum(["text", "image", "audio", "video"]).optional(),
});

/** GET /admin/tenants/{tenant_id}/tasks's query: the tenant's list, optionally one user's. */
export const AdminTaskListQuerySchema = z.strictObject({
  ...listQueryShape,
  sub: z.string().min(1).max(256).optional(),
});
