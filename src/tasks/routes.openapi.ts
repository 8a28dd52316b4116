// OpenAPI operations of src/tasks/routes.ts: reading one task, deleting one.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { UPSTREAM_ERRORS } from "../upstream/errors.openapi";
import { TASK_EXAMPLE, TaskViewSchema } from "./present.openapi";

/** The path parameter of every tenant route on one task (GET, DELETE, its event stream). */
export const TASK_ID_PATH = {
  task_id: {
    schema: z.string(),
    description: "The id POST /v1/videos/generations returned.",
    example: TASK_EXAMPLE.id,
  },
};

/** The answer of a task's deletion (the tenant's route and the operator's). */
export const TaskDeletedSchema = z.object({
  id: z.string(),
  object: z.literal("video.generation.task"),
  deleted: z.literal(true),
});

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
    pathParams: TASK_ID_PATH,
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
  {
    api: "tenant",
    method: "delete",
    path: "/v1/tasks/{task_id}",
    operationId: "deleteTask",
    summary: "Delete an ended task and its kept results",
    description:
      "For the task's owner (its `sub`), or a token without `sub`. The task's kept results are deleted from the operator's bucket at once and its record is erased (the credits it used stay in the ledger); then its id and its result URLs answer 404. A task still running is 409 `task_in_flight`: delete it once it has ended. Another location may still answer GET with the task for up to 10 minutes (never its results).",
    tag: "Tasks",
    security: "tenant",
    pathParams: TASK_ID_PATH,
    responses: {
      200: {
        description: "Deleted.",
        schema: TaskDeletedSchema,
        example: { id: TASK_EXAMPLE.id, object: "video.generation.task", deleted: true },
      },
    },
    errors: ["task_not_found", "task_in_flight"],
  },
];
