// What the gateway reads from the upstream's answers, parsed leniently (extra fields tolerated, as the
// upstream adds fields over time) but never trusted blindly: a body that does not parse is a 502.
import * as z from "zod";

const Usage = z
  .object({
    billing_rule: z.string().optional(),
    credits_reserved: z.number().nonnegative().optional(),
    credits_used: z.number().nonnegative().optional(),
    cost: z.object({ credits: z.number().nonnegative().optional() }).loose().optional(),
    user_group: z.string().optional(),
  })
  .loose();

export const TaskStatus = z.enum(["pending", "processing", "completed", "failed", "cancelled"]);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);

export const UpstreamTaskSchema = z
  .object({
    id: z.string().startsWith("task-unified-").max(200),
    created: z.number().optional(),
    model: z.string().optional(),
    object: z.string().optional(),
    progress: z.number().min(0).max(100).optional(),
    status: TaskStatus,
    results: z.array(z.string()).optional(),
    error: z
      .object({
        code: z.union([z.string(), z.number()]).optional(),
        message: z.string().optional(),
        type: z.string().optional(),
      })
      .loose()
      .nullable()
      .optional(),
    task_info: z
      .object({ can_cancel: z.boolean().optional(), estimated_time: z.number().optional() })
      .loose()
      .optional(),
    type: z.string().optional(),
    usage: Usage.optional(),
  })
  .loose();
export type UpstreamTask = z.infer<typeof UpstreamTaskSchema>;

export const UpstreamErrorSchema = z
  .object({
    error: z
      .object({
        code: z.union([z.string(), z.number()]).optional(),
        message: z.string().optional(),
        type: z.string().optional(),
      })
      .loose(),
  })
  .loose();

/** Credits the upstream says it used for a finished task, when it says (undocumented, seen in its client). */
export function reportedCreditsUsed(task: UpstreamTask): number | undefined {
  return task.usage?.credits_used ?? task.usage?.cost?.credits;
}
