// One task-ended event as it travels from the tenant's Durable Object (outbox) through the WEBHOOKS queue to
// the delivery consumer. It carries what delivery needs except the tenant's secret and webhook URL, which are
// read when delivering (they may change meanwhile, and secrets never sit in a queue).
import * as z from "../config/zod";
import type { TenantRef } from "../state/client";
import { presentTask, type TenantTaskView } from "../tasks/present";
import type { TaskRecord } from "../tasks/table";
import { presentResults } from "../results/url";
import type { Config } from "../config/env";
import { type UpstreamTask, UpstreamTaskSchema } from "../upstream/schema";

export const WebhookMessageSchema = z.object({
  v: z.literal(1),
  tenant_id: z.string().check(z.minLength(1), z.maxLength(63)),
  /** The tenant's incarnation the event belongs to: a re-created tenant never receives the old one's events. */
  incarnation: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The Standard Webhooks `webhook-id`: one per task end, the same on every attempt and redelivery. */
  event_id: z.string().check(z.startsWith("msg_"), z.maxLength(200)),
  task_id: z.string().check(z.minLength(1), z.maxLength(200)),
  /** The task's own callback_url; when null the tenant's `webhook.url` is used. */
  callback_url: z.nullable(z.string().check(z.maxLength(4096))),
  /** The task as `GET /v1/tasks/{id}` shows it to the tenant. */
  payload: z.record(z.string(), z.unknown()),
  ended_at: z.number(),
  /** True when an operator asked for this delivery again (`POST /admin/deliveries/{id}/redeliver`). */
  redelivery: z.boolean(),
  /**
   * The task's kept results (src/results): its row and retention, so delivery signs the gateway's result
   * URLs into `payload.results` when it sends (a fresh signature each time). Absent: the upstream's links.
   */
  kept: z.optional(
    z.object({
      row: z.string().check(z.minLength(1), z.maxLength(64)),
      retention_days: z.int().check(z.nonnegative()),
    }),
  ),
});
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;

/**
 * The event id of a task's end: derived from the tenant's incarnation and the task's row, so every report of
 * that end names one event, and no two lives of a tenant share an event id.
 */
export function eventIdFor(tenant: TenantRef, row: string): string {
  return `msg_${tenant.incarnation}_${row}`;
}

/** The event for an ended task, built from what the upstream reported (the task's final snapshot). */
export function taskEndedMessage(
  tenant: TenantRef,
  record: TaskRecord,
  upstream: UpstreamTask,
  redelivery = false,
): WebhookMessage {
  const taskId = record.publicId ?? record.id;
  const payload: TenantTaskView = presentTask(taskId, upstream, {
    model: record.model,
    createdMs: record.createdAt,
  });
  return {
    v: 1,
    tenant_id: tenant.id,
    incarnation: tenant.incarnation,
    event_id: eventIdFor(tenant, record.id),
    task_id: taskId,
    callback_url: record.callbackUrl,
    payload: { ...payload },
    ended_at: record.endedAt ?? record.updatedAt,
    redelivery,
    ...(record.retentionDays > 0 ? { kept: { row: record.id, retention_days: record.retentionDays } } : {}),
  };
}

/** The same event rebuilt from the stored task (redelivery), or null when the task has not ended. */
export function messageFromRecord(tenant: TenantRef, record: TaskRecord): WebhookMessage | null {
  if (record.endedAt === null || !record.snapshot) return null;
  const upstream = UpstreamTaskSchema.safeParse(JSON.parse(record.snapshot));
  return upstream.success ? taskEndedMessage(tenant, record, upstream.data, true) : null;
}

/** The body a delivery sends: the payload, with kept results as the gateway's signed URLs. */
export async function deliveredPayload(m: WebhookMessage, config: Config): Promise<Record<string, unknown>> {
  const results = m.payload.results;
  if (!m.kept || !Array.isArray(results)) return m.payload;
  const task = { id: m.kept.row, endedAt: m.ended_at, retentionDays: m.kept.retention_days };
  const tenant = { id: m.tenant_id, incarnation: m.incarnation };
  return { ...m.payload, results: await presentResults(config, tenant, task, results as string[]) };
}
