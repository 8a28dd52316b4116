// The query strings of the task lists, as zod schemas: the routes (./list-routes.ts) parse with them and
// the OpenAPI documents are generated from them (./list-routes.openapi.ts).
import * as z from "../config/zod";
import { TASK_LIST_PAGE_DEFAULT, TASK_LIST_PAGE_MAX } from "../config/constants";
import { TaskStatus } from "../upstream/schema";

const UnixSeconds = z.coerce.number<string>().check(z.int(), z.gte(0), z.lte(99_999_999_999));

const listQueryShape = {
  status: z.optional(TaskStatus),
  model: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  created_after: z.optional(UnixSeconds),
  created_before: z.optional(UnixSeconds),
  page: z._default(z.coerce.number<string>().check(z.int(), z.gte(1)), 1),
  page_size: z._default(
    z.coerce.number<string>().check(z.int(), z.gte(1), z.lte(TASK_LIST_PAGE_MAX)),
    TASK_LIST_PAGE_DEFAULT,
  ),
};

/** GET /v1/tasks's query. `type` is accepted for EvoLink's CLI; this gateway's tasks are all `video`. */
export const TaskListQuerySchema = z.strictObject({
  ...listQueryShape,
  type: z.optional(z.enum(["text", "image", "audio", "video"])),
});

/** GET /admin/tenants/{tenant_id}/tasks's query: the tenant's list, optionally one user's. */
export const AdminTaskListQuerySchema = z.strictObject({
  ...listQueryShape,
  sub: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});
