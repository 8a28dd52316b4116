// The task object's schema (src/tasks/present.ts) for the OpenAPI documents: what POST /v1/videos/generations,
// GET /v1/tasks/{task_id} and the task-ended webhook carry.
import * as z from "zod";
import { TaskStatus } from "../upstream/schema";

export const TaskViewSchema = z.object({
  id: z.string().describe("The gateway's task id (never the upstream's)."),
  object: z.string().describe("`video.generation.task`."),
  model: z.string(),
  type: z.string().describe("`video`."),
  created: z.int().describe("Unix seconds."),
  status: TaskStatus,
  progress: z.number().min(0).max(100),
  results: z.array(z.string()).optional().describe("Video URLs (valid 24 hours), once completed."),
  error: z
    .object({ code: z.string(), message: z.string(), type: z.string() })
    .nullable()
    .optional()
    .describe("Why the task failed (`type` is always `task_error`)."),
  task_info: z
    .object({ can_cancel: z.boolean().optional(), estimated_time: z.number().optional() })
    .optional(),
  usage: z
    .object({ billing_rule: z.string(), credits_reserved: z.number() })
    .optional()
    .describe("On creation: the credits held until the task ends."),
});

export const TASK_EXAMPLE = {
  id: "task-unified-ujzdegxdncf32epf3dhodzdocis2jhtlgmxgedn73u55xtplpft7v4seh2kvj72ceuvw75efr6edt4sywb5wkh7dnsipzz7fk4zri3r2wyojfljooa7",
  object: "video.generation.task",
  model: "wan2.6-reference-video-flash",
  type: "video",
  created: 1764700000,
  status: "pending",
  progress: 0,
  task_info: { can_cancel: true, estimated_time: 120 },
  usage: { billing_rule: "per_second", credits_reserved: 23.8 },
};
