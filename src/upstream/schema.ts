// What the gateway reads from the upstream's answers, parsed leniently (extra fields tolerated, as the
// upstream adds fields over time) but never trusted blindly: a body that does not parse is a 502.
import * as z from "../config/zod";

const Usage = z.looseObject({
  billing_rule: z.optional(z.string()),
  credits_reserved: z.optional(z.number().check(z.nonnegative())),
  credits_used: z.optional(z.number().check(z.nonnegative())),
  cost: z.optional(z.looseObject({ credits: z.optional(z.number().check(z.nonnegative())) })),
  user_group: z.optional(z.string()),
});

export const TaskStatus = z.enum(["pending", "processing", "completed", "failed", "cancelled"]);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);

const UpstreamError = z.looseObject({
  code: z.optional(z.union([z.string(), z.number()])),
  message: z.optional(z.string()),
  type: z.optional(z.string()),
});

export const UpstreamTaskSchema = z.looseObject({
  id: z.string().check(z.startsWith("task-unified-"), z.maxLength(200)),
  created: z.optional(z.number()),
  model: z.optional(z.string()),
  object: z.optional(z.string()),
  progress: z.optional(z.number().check(z.gte(0), z.lte(100))),
  status: TaskStatus,
  results: z.optional(z.array(z.string())),
  error: z.optional(z.nullable(UpstreamError)),
  task_info: z.optional(
    z.looseObject({ can_cancel: z.optional(z.boolean()), estimated_time: z.optional(z.number()) }),
  ),
  type: z.optional(z.string()),
  usage: z.optional(Usage),
});
export type UpstreamTask = z.infer<typeof UpstreamTaskSchema>;

export const UpstreamErrorSchema = z.looseObject({ error: UpstreamError });

/** Credits the upstream says it used for a finished task, when it says (undocumented, seen in its client). */
export function reportedCreditsUsed(task: UpstreamTask): number | undefined {
  return task.usage?.credits_used ?? task.usage?.cost?.credits;
}
