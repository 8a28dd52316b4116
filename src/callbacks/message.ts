// One webhook event as it travels from an outbox (the tenant's Durable Object, or the Registry's for the
// operator's own events) through the WEBHOOKS queue to the delivery consumer. It carries what delivery needs
// except the secret and the destination, which are read when delivering (they may change meanwhile, and
// secrets never sit in a queue). A task's end is the original kind (no `type`); every other kind
// (`quota.threshold`, the operator's events) carries its whole body, `{type, timestamp, data}`, in `payload`.
import * as z from "../config/zod";
import type { TenantRef } from "../state/client";
import { presentTask, type TenantTaskView } from "../tasks/present";
import type { TaskRecord } from "../tasks/table";
import { presentResults } from "../results/url";
import type { Config } from "../config/env";
import type { DeliveryView } from "./delivery-log";
import { type UpstreamTask, UpstreamTaskSchema } from "../upstream/schema";

/**
 * Every kind of webhook event. `task.ended` goes to the tenant, `quota.threshold` and `webhook.test` too; the
 * rest to the operator.
 */
export const EVENT_TYPES = [
  "task.ended",
  "quota.threshold",
  "tenant.quota_exhausted",
  "usage.settled",
  "delivery.dead_lettered",
  "upstream.credits_low",
  "webhook.test",
  "webhook.endpoint_disabled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const WebhookMessageSchema = z.object({
  v: z.literal(1),
  tenant_id: z.string().check(z.minLength(1), z.maxLength(63)),
  /** The tenant's incarnation the event belongs to: a re-created tenant never receives the old one's events. */
  incarnation: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The Standard Webhooks `webhook-id`: one per event, the same on every attempt and redelivery. */
  event_id: z.string().check(z.minLength(1), z.maxLength(200)),
  /** The task the event is about; null for an event about no task (a quota threshold, the balance). */
  task_id: z.nullable(z.string().check(z.minLength(1), z.maxLength(200))),
  /** The event's type; absent: `task.ended` (the body is then the task itself). */
  type: z.optional(z.enum(EVENT_TYPES)),
  /** Who receives it: the tenant (its webhook) or the operator (OPERATOR_WEBHOOK_URL). Absent: the tenant. */
  audience: z.optional(z.enum(["tenant", "operator"])),
  /** The outbox it came from, where its attempts are recorded: absent, the tenant's object; or the Registry's. */
  origin: z.optional(z.literal("registry")),
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

/** Who receives an event: its `audience`, the tenant when absent. */
export function audienceOf(m: WebhookMessage): "tenant" | "operator" {
  return m.audience ?? "tenant";
}

/** An event's type: its `type`, a task's end when absent (messages from before there were other kinds). */
export function typeOf(m: WebhookMessage): EventType {
  return m.type ?? "task.ended";
}

/** An event of any kind but a task's end: `{type, timestamp, data}` as its body. */
export function eventMessage(
  tenant: TenantRef,
  e: { id: string; type: Exclude<EventType, "task.ended">; audience: "tenant" | "operator"; taskId?: string },
  data: Record<string, unknown>,
  at: number,
): WebhookMessage {
  return {
    v: 1,
    tenant_id: tenant.id,
    incarnation: tenant.incarnation,
    event_id: e.id,
    task_id: e.taskId ?? null,
    type: e.type,
    audience: e.audience,
    callback_url: null,
    payload: { type: e.type, timestamp: new Date(at).toISOString(), data },
    ended_at: at,
    redelivery: false,
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

/** `delivery.dead_lettered`: the operator hears that one of a tenant's events exhausted its retries. */
export function deadLettered(tenant: TenantRef, delivery: DeliveryView, at: number): WebhookMessage {
  return eventMessage(
    tenant,
    {
      id: `msg_dl_${delivery.id}`,
      type: "delivery.dead_lettered",
      audience: "operator",
      ...(delivery.task_id ? { taskId: delivery.task_id } : {}),
    },
    {
      tenant_id: tenant.id,
      delivery_id: delivery.id,
      event_id: delivery.event_id,
      event_type: delivery.type,
      task_id: delivery.task_id,
      url: delivery.url,
    },
    at,
  );
}
