// The dead-letter queue's consumer: a webhook that exhausted its retry schedule lands here. It is recorded as
// `dead_lettered` in the tenant's delivery records, where operators see it and can redeliver it
// (`POST /admin/deliveries/{id}/redeliver`). A message is acked only once that record is written.
import type { Env } from "../env";
import type { Logger } from "../http/log";
import { webhookDestination } from "./destination";
import { audienceOf, typeOf, WebhookMessageSchema } from "./message";
import { eventOrigin } from "./owner";
import { loadConfig } from "../config/env";

export async function deadLetterBatch(batch: MessageBatch<unknown>, env: Env, log: Logger): Promise<void> {
  await Promise.all(batch.messages.map((msg) => deadLetter(msg, env, log)));
}

async function deadLetter(msg: Message<unknown>, env: Env, log: Logger): Promise<void> {
  const parsed = WebhookMessageSchema.safeParse(msg.body);
  if (!parsed.success) {
    log.error("webhook_dead_letter_invalid", { message_id: msg.id, issues: parsed.error.issues.length });
    msg.ack();
    return;
  }
  const m = parsed.data;
  try {
    const { tenant, owner } = await eventOrigin(env, m);
    // The destination as the consumer chose it: a task without its own callback_url went to the webhook.
    const url =
      audienceOf(m) === "operator"
        ? (loadConfig(env).operatorWebhook?.url ?? null)
        : webhookDestination(m, tenant);
    // Recording it (in the tenant's object, for its own events) also tells the operator: delivery.dead_lettered.
    await owner?.recordDelivery({
      eventId: m.event_id,
      taskId: m.task_id,
      type: typeOf(m),
      audience: audienceOf(m),
      attempt: null,
      at: Date.now(),
      url,
      statusCode: null,
      latencyMs: null,
      outcome: "dead_lettered",
      error: "every scheduled attempt failed",
      nextAttemptAt: null,
      redelivery: m.redelivery,
    });
    log.error("webhook_dead_lettered", {
      tenant_id: m.tenant_id,
      event_id: m.event_id,
      task_id: m.task_id,
      type: typeOf(m),
    });
    msg.ack();
  } catch (err) {
    log.error("webhook_dead_letter_record_failed", { event_id: m.event_id, error: String(err) });
    msg.retry({ delaySeconds: 30 });
  }
}
