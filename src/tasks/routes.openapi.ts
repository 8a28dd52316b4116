// OpenAPI operation of src/tasks/routes.ts: reading one task.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { UPSTREAM_ERRORS } from "../upstream/errors.openapi";
import { TASK_EXAMPLE, TaskViewSchema } from "./present.openapi";

export const taskOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "get",
    path: "/v1/tasks/{task_id}",
    operationId: "getTask",
    summary: "Get a task",
    description:
      "The task's current state, asked of EvoLink while it runs (unless heard of very recently); once it has ended, the gateway's own record of its end answers, and EvoLink is not asked again. A task of another user of your tenant, or of another tenant, is a 404 like one that does not exist.",
    tag: "Tasks",
    security: "tenant",
    pathParams: {
      task_id: {
        schema: z.string(),
        description: "The id POST /v1/videos/generations returned.",
        example: TASK_EXAMPLE.id,
      },
    },
    responses: {
      200: {
        description: "The task.",
        schema: TaskViewSchema,
        example: {
          ...TASK_EXAMPLE,
          status: "completed",
          progress: 100,
          results: ["https://cdn.example.com/out.mp4"],
        },
      },
    },
    errors: ["task_not_found", ...UPSTREAM_ERRORS],
  },
];
