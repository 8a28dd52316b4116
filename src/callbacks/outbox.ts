// The transactional outbox of task-ended events, inside the tenant's Durable Object. The event row is
// written synchronously in the same step that ends the task, so an ended task always has its event; the
// object's alarm then hands rows to the WEBHOOKS queue. A sent row stays, leased, until the consumer records
// the event's last attempt (delivered, failed or dead-lettered): a queue that loses a message it accepted (a
// local runtime killed mid-delivery) or a consumer that never reports back cannot lose the event, since the
// row is sent again when its lease runs out. Receivers dedupe by webhook-id, which every send shares.
import {
  DELIVERY_RETENTION_MS,
  OUTBOX_FLUSH_BATCH,
  OUTBOX_LEASE_GRACE_MS,
  OUTBOX_LEASE_MAX_MS,
  OUTBOX_RETRY_MS,
} from "../config/constants";
import type { TenantRef } from "../state/client";
import type { AlarmClock } from "../state/alarm";
import type { TaskRecord } from "../tasks/table";
import type { UpstreamTask } from "../upstream/schema";
import type { Logger } from "../http/log";
import { audienceOf, taskEndedMessage, type WebhookMessage, WebhookMessageSchema } from "./message";

const MAX_RETRY_MS = 5 * 60_000;

interface Row {
  seq: number;
  event_id: string;
  message: string;
  send_failures: number;
  sends: number;
  [k: string]: SqlStorageValue;
}

/**
 * How long a sent event waits for the consumer's record before it is sent again: one attempt's timeout plus
 * a grace for the queue's own latency, doubled for each earlier send of the event (so a slow consumer is
 * not flooded with copies), at most OUTBOX_LEASE_MAX_MS.
 */
export function leaseMs(webhookTimeoutMs: number, sends: number): number {
  const base = webhookTimeoutMs + OUTBOX_LEASE_GRACE_MS;
  return Math.min(OUTBOX_LEASE_MAX_MS, base * 2 ** Math.max(0, sends - 1));
}

export class Outbox {
  private readonly sql: SqlStorage;

  constructor(
    storage: DurableObjectStorage,
    private readonly queue: Queue<WebhookMessage>,
    private readonly tenant: TenantRef,
    private readonly alarm: Pick<AlarmClock, "armBy">,
  ) {
    this.sql = storage.sql;
  }

  /**
   * Records a task's end event. Synchronous: it commits with the write that ended the task. `endedAt` is the
   * observation's clock (whatever its caller passed); the send is scheduled on the real clock.
   */
  taskEnded(record: TaskRecord, upstream: UpstreamTask, endedAt: number): void {
    const message = taskEndedMessage(this.tenant, record, upstream);
    const now = Date.now();
    this.sql.exec(
      "INSERT INTO webhook_outbox (event_id, message, created_at, next_at) VALUES (?, ?, ?, ?)",
      message.event_id,
      JSON.stringify(message),
      endedAt,
      now,
    );
    // Wake the alarm now; the alarm dispatcher re-arms for whatever else is due.
    this.alarm.armBy(now);
  }

  /**
   * Records an event of another kind (`eventMessage`) and keeps its body, as sent, for redelivery while its
   * delivery records last. Synchronous, like `taskEnded`: the caller's step commits it. An operator's event
   * with no operator webhook configured is a structured log line instead, and nothing is stored.
   */
  emit(message: WebhookMessage, operatorWebhook: boolean, log: Logger): void {
    if (audienceOf(message) === "operator" && !operatorWebhook) {
      // Alerts at warn, so a quieter LOG_LEVEL still shows them; the per-task usage line at info.
      log[message.type === "usage.settled" ? "info" : "warn"]("operator_event", {
        event_id: message.event_id,
        ...message.payload,
      });
      return;
    }
    const now = Date.now();
    const json = JSON.stringify(message);
    this.sql.exec("DELETE FROM webhook_events WHERE created_at < ?", now - DELIVERY_RETENTION_MS);
    this.sql.exec(
      "INSERT INTO webhook_events (event_id, message, created_at) VALUES (?, ?, ?)",
      message.event_id,
      json,
      now,
    );
    this.sql.exec(
      "INSERT INTO webhook_outbox (event_id, message, created_at, next_at) VALUES (?, ?, ?, ?)",
      message.event_id,
      json,
      now,
      now,
    );
    this.alarm.armBy(now);
  }

  /** A kept event (not a task's end) as it was sent, marked as a redelivery; null once its records expired. */
  event(eventId: string): WebhookMessage | null {
    const row = this.sql
      .exec<{ message: string }>("SELECT message FROM webhook_events WHERE event_id = ?", eventId)
      .toArray()[0];
    const parsed = row && WebhookMessageSchema.safeParse(JSON.parse(row.message));
    return parsed && parsed.success ? { ...parsed.data, redelivery: true } : null;
  }

  /**
   * Sends the due rows to the queue: new events, and sent ones whose lease ran out with no record of their
   * last attempt. Returns when the outbox next needs a run, or null when empty.
   */
  async flush(now: number, webhookTimeoutMs: number): Promise<number | null> {
    const due = this.sql
      .exec<Row>(
        `SELECT seq, event_id, message, send_failures, sends FROM webhook_outbox WHERE next_at <= ?
         ORDER BY seq LIMIT ?`,
        now,
        OUTBOX_FLUSH_BATCH,
      )
      .toArray();
    const sent = await Promise.allSettled(
      due.map((row) => this.queue.send(JSON.parse(row.message) as WebhookMessage, { contentType: "json" })),
    );
    sent.forEach((outcome, i) => {
      const row = due[i]!;
      if (outcome.status === "fulfilled") {
        this.leased(row, webhookTimeoutMs);
        return;
      }
      const wait = Math.min(MAX_RETRY_MS, OUTBOX_RETRY_MS * 2 ** row.send_failures);
      this.sql.exec(
        "UPDATE webhook_outbox SET send_failures = send_failures + 1, next_at = ? WHERE seq = ?",
        Date.now() + wait,
        row.seq,
      );
      console.error(
        JSON.stringify({
          level: "error",
          event: "outbox_send_failed",
          tenant_id: this.tenant.id,
          event_id: row.event_id,
          failures: row.send_failures + 1,
          error: String(outcome.reason),
        }),
      );
    });
    const next = this.sql
      .exec<{ next: number | null }>("SELECT MIN(next_at) AS next FROM webhook_outbox")
      .one();
    return next.next;
  }

  /**
   * The consumer recorded an attempt of event `eventId`: a scheduled retry (`nextAttemptAt`) extends the
   * lease past it; anything final (null: delivered, failed, dead-lettered, no destination) settles the event.
   */
  attempted(eventId: string, nextAttemptAt: number | null, webhookTimeoutMs: number): void {
    if (nextAttemptAt === null) {
      this.sql.exec("DELETE FROM webhook_outbox WHERE event_id = ?", eventId);
      return;
    }
    this.sql.exec(
      "UPDATE webhook_outbox SET next_at = MAX(next_at, ?) WHERE event_id = ? AND sends > 0",
      nextAttemptAt + leaseMs(webhookTimeoutMs, 1),
      eventId,
    );
  }

  /** Events not yet settled by the consumer (for tests and operations). */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n;
  }

  /** The queue took the row's message: it waits for the consumer's record until its lease runs out. */
  private leased(row: Row, webhookTimeoutMs: number): void {
    const sends = row.sends + 1;
    this.sql.exec(
      "UPDATE webhook_outbox SET sends = ?, send_failures = 0, next_at = ? WHERE seq = ?",
      sends,
      Date.now() + leaseMs(webhookTimeoutMs, sends),
      row.seq,
    );
    if (sends > 1)
      console.warn(
        JSON.stringify({
          level: "warn",
          event: "outbox_resent",
          tenant_id: this.tenant.id,
          event_id: row.event_id,
          sends,
        }),
      );
  }
}
