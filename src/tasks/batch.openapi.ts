// OpenAPI operation of src/tasks/batch.ts: many of the caller's tasks at once.
import * as z from "zod";
import { TASK_BATCH_MAX } from "../config/constants";
import type { OperationSpec } from "../openapi/registry";
import { UPSTREAM_ERRORS } from "../upstream/errors.openapi";
import { TaskBatchSchema } from "./batch";
import { TASK_EXAMPLE, TaskViewSchema } from "./present.openapi";

/** A second id of the same shape (another task of the caller). */
const OTHER_ID = `${TASK_EXAMPLE.id.slice(0, -8)}qa7k2m3b`;

export const taskBatchOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "post",
    path: "/v1/tasks/batch",
    operationId: "getTasksBatch",
    summary: "Get many tasks at once",
    description: `Up to ${TASK_BATCH_MAX} tasks, each read exactly as GET /v1/tasks/{task_id} reads it, answered in the order asked. An id GET would answer 404 for (unknown, malformed, of another user or tenant, deleted) is left out silently, as EvoLink does; a repeated id is answered once. Each distinct id counts as one read against the read limits. When EvoLink fails to answer for one of the tasks, the whole request fails with that error (retry it): a task is never left out because EvoLink could not be asked.`,
    tag: "Tasks",
    security: "tenant",
    body: {
      schema: TaskBatchSchema,
      examples: { twoTasks: { value: { task_ids: [TASK_EXAMPLE.id, OTHER_ID] } } },
    },
    responses: {
      200: {
        description: "The tasks the caller may see, in the order asked.",
        schema: z.object({ data: z.array(TaskViewSchema) }),
        example: { data: [{ ...TASK_EXAMPLE, status: "processing", progress: 40 }] },
      },
    },
    errors: [
      "invalid_request",
      "unsupported_media_type",
      "payload_too_large",
      "rate_limit_exceeded",
      ...UPSTREAM_ERRORS,
    ],
  },
];
