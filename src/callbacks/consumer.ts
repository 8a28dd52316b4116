// The WEBHOOKS queue consumer: one signed POST per message to the task's callback_url or the tenant's
// webhook URL, re-checked against the URL rules at delivery time. Every attempt is recorded in the tenant's
// Durable Object; each message is acked or retried on purpose, never left to the runtime's default: ack
// when delivered or when retrying cannot help, `retry({ delaySeconds })` per the schedule otherwise, and
// after the last scheduled attempt a plain retry, which moves the message to the dead-letter queue
// (max_retries in wrangler.jsonc).
import type { Config } from "../config/env";
import { WEBHOOK_PACE_MAX_WAIT_MS } from "../config/constants";
import type { Env } from "../env";
import type { Logger } from "../http/log";
import { checkGatewayUrl } from "../net/urls";
import { tenantObject } from "../state/client";
import type { Tenant } from "../tenants/schema";
import { webhookDestination } from "./destination";
import type { DeliveryEntry, DeliveryOutcome } from "./delivery-log";
import { audienceOf, deliveredPayload, typeOf, type WebhookMessage, WebhookMessageSchema } from "./message";
import { type EventOwner, eventOrigin } from "./owner";
import { type AttemptResult, classify, describeFailure, retryDelaySeconds } from "./retry";
import { postWebhook } from "./send";
import { signingSecrets, webhookHeaders } from "./signature";

export interface ConsumerDeps {
  config: Config;
  log: Logger;
  /** In [0, 1), for retry jitter. */
  random: () => number;
}

export async function deliverBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
): Promise<void> {
  await Promise.all(batch.messages.map((msg) => deliverMessage(msg, env, deps)));
}

async function deliverMessage(msg: Message<unknown>, env: Env, deps: ConsumerDeps): Promise<void> {
  const parsed = WebhookMessageSchema.safeParse(msg.body);
  if (!parsed.success) {
    // No attempt can ever succeed for a message nobody can read: acked deliberately, and logged.
    deps.log.error("webhook_message_invalid", { message_id: msg.id, issues: parsed.error.issues.length });
    msg.ack();
    return;
  }
  try {
    const done = await attempt(parsed.data, msg.attempts, env, deps);
    if (done.ack) msg.ack();
    else msg.retry(done.delaySeconds === undefined ? {} : { delaySeconds: done.delaySeconds });
  } catch (err) {
    // Anything unexpected (KV or the tenant's object unavailable) is transient: never acked by accident.
    deps.log.error("webhook_delivery_error", { event_id: parsed.data.event_id, error: String(err) });
    msg.retry({ delaySeconds: retryDelaySeconds(deps.config.webhookRetrySchedule, 1, deps.random()) ?? 0 });
  }
}

interface Decision {
  ack: boolean;
  delaySeconds?: number;
}

async function attempt(
  m: WebhookMessage,
  attemptNo: number,
  env: Env,
  deps: ConsumerDeps,
): Promise<Decision> {
  const { config, log } = deps;
  const fields = {
    tenant_id: m.tenant_id,
    event_id: m.event_id,
    task_id: m.task_id,
    type: typeOf(m),
    attempt: attemptNo,
  };
  const operator = audienceOf(m) === "operator";
  const { tenant, owner } = await eventOrigin(env, m);
  if (!owner && !operator) {
    // Deleted (and maybe re-created since): the event belongs to a life of the tenant that has ended.
    log.warn("webhook_tenant_gone", fields);
    return { ack: true };
  }
  // An operator's event about a tenant that has since been deleted is still delivered (billing needs it),
  // with nowhere left to record it.
  const target = operator ? operatorTarget(config) : tenantTarget(m, tenant);
  if (!target) {
    log.info("webhook_no_destination", fields);
    if (owner) await settled(owner, m, log);
    return { ack: true };
  }

  // A throttled endpoint (the tenant's webhook.max_per_second): the outbox paced the queue, but the queue
  // delivers in batches; each POST waits for its own slot, kept by the tenant's object.
  const perSecond = operator ? undefined : tenant?.webhook?.max_per_second;
  if (perSecond && tenant) {
    const slot = await tenantObject(env, { id: m.tenant_id, incarnation: m.incarnation }).sendSlot(
      target.url,
      perSecond,
    );
    const wait = Math.min(slot - Date.now(), WEBHOOK_PACE_MAX_WAIT_MS);
    if (wait > 0) await sleep(wait);
    await spaced(target.url, 1000 / perSecond);
  }
  const at = Date.now();
  const sent = await send(m, target, config, at);
  const verdict = classify(sent.result);
  const delay =
    verdict === "transient" ? retryDelaySeconds(config.webhookRetrySchedule, attemptNo, deps.random()) : null;
  const entry = deliveryEntry(m, attemptNo, at, target.url, sent, verdict, delay);
  const recorded = owner ? await record(owner, m, entry, log) : null;
  // The endpoint is disabled: the event is held in the outbox until it is re-enabled, not retried.
  const held = recorded?.outcome === "held";
  log[entry.outcome === "delivered" ? "info" : "warn"]("webhook_attempt", {
    ...fields,
    outcome: held ? "held" : entry.outcome,
    status: entry.statusCode,
    ms: sent.latencyMs,
    error: entry.error,
  });
  return held ? { ack: true } : decide(verdict, delay, config, deps.random);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Per isolate: when the last POST to each throttled endpoint left (a few hundred endpoints at most kept). */
const lastSent = new Map<string, number>();

/**
 * Spaces this isolate's POSTs to one throttled endpoint by `intervalMs`, measured from when the previous one
 * actually left: deliveries whose slots came while the isolate was busy would otherwise all leave the moment
 * it is free (13 in one second at 10/s, seen with 1,000 ends at once). Bounded: at most 30 s.
 */
async function spaced(url: string, intervalMs: number): Promise<void> {
  const deadline = Date.now() + WEBHOOK_PACE_MAX_WAIT_MS;
  for (;;) {
    const wait = (lastSent.get(url) ?? 0) + intervalMs - Date.now();
    if (wait <= 0 || Date.now() >= deadline) break;
    await sleep(Math.min(wait, deadline - Date.now()));
  }
  lastSent.delete(url);
  lastSent.set(url, Date.now());
  if (lastSent.size > 500) lastSent.delete(lastSent.keys().next().value!);
}

/** Where a tenant's event goes and what signs it: the secrets that sign now (a rotation signs with both). */
interface Target {
  url: string;
  secrets: string[];
}

function tenantTarget(m: WebhookMessage, tenant: Tenant | null): Target | null {
  const url = webhookDestination(m, tenant);
  if (!url || !tenant?.webhook?.secret) return null;
  return { url, secrets: signingSecrets(tenant.webhook, Date.now()) };
}

function operatorTarget(config: Config): Target | null {
  const hook = config.operatorWebhook;
  return hook && { url: hook.url, secrets: [hook.secret] };
}

/** An attempt's result; `latencyMs` is null when nothing was sent (the URL was refused). */
interface Sent {
  result: AttemptResult;
  latencyMs: number | null;
}

/** One signed POST, unless the destination no longer passes the URL rules (checked at delivery time). */
async function send(m: WebhookMessage, target: Target, config: Config, at: number): Promise<Sent> {
  const checked = checkGatewayUrl(target.url, { allowLocal: config.devAllowLocalUrls });
  if (!checked.ok) return { result: { kind: "url_rejected", reason: checked.reason }, latencyMs: null };
  const body = JSON.stringify(await deliveredPayload(m, config));
  const headers = await webhookHeaders(target.secrets, m.event_id, Math.floor(at / 1000), body);
  return postWebhook(checked.url.href, headers, body, config.webhookTimeoutMs);
}

/** The delivery record of one attempt: what happened, and what happens next. */
function deliveryEntry(
  m: WebhookMessage,
  attemptNo: number,
  at: number,
  destination: string,
  sent: Sent,
  verdict: ReturnType<typeof classify>,
  delay: number | null,
): DeliveryEntry {
  const { result } = sent;
  const outcome: DeliveryOutcome =
    verdict === "delivered" ? "delivered" : verdict === "transient" && delay !== null ? "retrying" : "failed";
  const failure = describeFailure(result);
  return {
    eventId: m.event_id,
    taskId: m.task_id,
    type: typeOf(m),
    audience: audienceOf(m),
    attempt: attemptNo,
    at,
    url: destination,
    statusCode: result.kind === "response" ? result.status : null,
    latencyMs: sent.latencyMs,
    outcome,
    error: verdict === "transient" && delay === null ? `${failure}; retries exhausted` : failure,
    nextAttemptAt: delay === null ? null : Date.now() + delay * 1000,
    redelivery: m.redelivery,
  };
}

/** Ack what is settled; retry a transient failure after its delay, or exhaust it into the dead-letter queue. */
function decide(
  verdict: ReturnType<typeof classify>,
  delay: number | null,
  config: Config,
  random: () => number,
): Decision {
  if (verdict !== "transient") return { ack: true };
  if (delay !== null) return { ack: false, delaySeconds: delay };
  // Exhausted: the queue has now seen max_retries failures and moves the message to the dead-letter queue.
  // (Were max_retries set higher than the schedule, the last delay keeps repeating until it does.)
  const last = config.webhookRetrySchedule.length;
  return { ack: false, delaySeconds: retryDelaySeconds(config.webhookRetrySchedule, last, random()) ?? 0 };
}

/** Best effort too: an event left in the outbox is sent again after its lease, and finds no destination again. */
async function settled(owner: EventOwner, m: WebhookMessage, log: Logger): Promise<void> {
  try {
    await owner.eventSettled(m.event_id);
  } catch (err) {
    log.error("webhook_record_failed", { tenant_id: m.tenant_id, event_id: m.event_id, error: String(err) });
  }
}

/**
 * Recording is best effort: a lost record never turns this message into a retry. (The event stays in the
 * outbox then, and is sent once more when its lease ends: a repeat with the same webhook-id.)
 */
async function record(
  owner: EventOwner,
  m: WebhookMessage,
  entry: DeliveryEntry,
  log: Logger,
): Promise<{ outcome: DeliveryOutcome } | null> {
  try {
    return await owner.recordDelivery(entry);
  } catch (err) {
    log.error("webhook_record_failed", {
      tenant_id: m.tenant_id,
      event_id: entry.eventId,
      error: String(err),
    });
    return null;
  }
}
