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
import type { EndpointGate } from "./health";
import { audienceOf, taskEndedMessage, type WebhookMessage, WebhookMessageSchema } from "./message";

const MAX_RETRY_MS = 5 * 60_000;

interface Row {
  seq: number;
  event_id: string;
  message: string;
  send_failures: number;
  sends: number;
  slot_at: number | null;
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
    this.enqueue(message.event_id, JSON.stringify(message), endedAt, Date.now());
  }

  /** One outbox row, due at `now`; wakes the alarm now (the dispatcher re-arms for whatever else is due). */
  private enqueue(eventId: string, json: string, createdAt: number, now: number): void {
    this.sql.exec(
      "INSERT INTO webhook_outbox (event_id, message, created_at, next_at) VALUES (?, ?, ?, ?)",
      eventId,
      json,
      createdAt,
      now,
    );
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
    this.enqueue(message.event_id, json, now, now);
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
   * last attempt. Returns when the outbox next needs a run, or null when empty. With a `gate` (the tenant's
   * objects: src/callbacks/health.ts), a row not yet given a send slot is first asked about: an event for a
   * disabled endpoint is held (never sent until it is re-enabled), one for a throttled endpoint waits for
   * its slot. Held rows are not due, ever, until released.
   */
  async flush(
    now: number,
    webhookTimeoutMs: number,
    gate?: () => Promise<EndpointGate>,
  ): Promise<number | null> {
    const rows = this.sql
      .exec<Row>(
        `SELECT seq, event_id, message, send_failures, sends, slot_at FROM webhook_outbox
         WHERE next_at <= ? AND held_url IS NULL ORDER BY seq LIMIT ?`,
        now,
        OUTBOX_FLUSH_BATCH,
      )
      .toArray();
    const ask = gate && rows.some((r) => r.slot_at === null) ? await gate() : null;
    const due = rows.filter((row) => {
      if (!ask || row.slot_at !== null) return true;
      const admission = ask.admit(JSON.parse(row.message) as WebhookMessage, now);
      if ("hold" in admission) {
        this.sql.exec("UPDATE webhook_outbox SET held_url = ? WHERE seq = ?", admission.hold, row.seq);
        return false;
      }
      if (admission.at <= now) return true;
      this.sql.exec(
        "UPDATE webhook_outbox SET next_at = ?, slot_at = ? WHERE seq = ?",
        admission.at,
        admission.at,
        row.seq,
      );
      return false;
    });
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
      .exec<{ next: number | null }>("SELECT MIN(next_at) AS next FROM webhook_outbox WHERE held_url IS NULL")
      .one();
    return next.next;
  }

  /**
   * The consumer found event `eventId`'s endpoint disabled: the event is held for it instead of retried.
   * False when the outbox has no row for it (a redelivery sent straight to the queue): it retries as before.
   */
  hold(eventId: string, url: string): boolean {
    return (
      this.sql.exec("UPDATE webhook_outbox SET held_url = ?, slot_at = NULL WHERE event_id = ?", url, eventId)
        .rowsWritten > 0
    );
  }

  /** Held events per endpoint URL. */
  held(): Map<string, number> {
    const rows = this.sql
      .exec<{ url: string; n: number }>(
        "SELECT held_url AS url, COUNT(*) AS n FROM webhook_outbox WHERE held_url IS NOT NULL GROUP BY held_url",
      )
      .toArray();
    return new Map(rows.map((r) => [r.url, r.n]));
  }

  /** How many events are held for `url`. */
  heldFor(url: string): number {
    return this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox WHERE held_url = ?", url)
      .one().n;
  }

  /** Releases the events held for `url`, oldest first, one send slot each: `start`, then every `spacingMs`. */
  release(url: string, start: number, spacingMs: number): number {
    const seqs = this.sql
      .exec<{ seq: number }>(
        "SELECT seq FROM webhook_outbox WHERE held_url = ? ORDER BY created_at, seq",
        url,
      )
      .toArray();
    seqs.forEach(({ seq }, i) => {
      const slot = start + i * spacingMs;
      this.sql.exec(
        "UPDATE webhook_outbox SET held_url = NULL, next_at = ?, slot_at = ? WHERE seq = ?",
        slot,
        slot,
        seq,
      );
    });
    if (seqs.length) this.alarm.armBy(start);
    return seqs.length;
  }

  /** Event ids the outbox holds now (sent or not): a recovery does not queue them a second time. */
  eventIds(): Set<string> {
    return new Set(
      this.sql
        .exec<{ event_id: string }>("SELECT event_id FROM webhook_outbox")
        .toArray()
        .map((r) => r.event_id),
    );
  }

  /** Queues an event again (a recovery), under its own webhook-id, through the outbox like a new one. */
  requeue(message: WebhookMessage): void {
    const now = Date.now();
    this.enqueue(message.event_id, JSON.stringify(message), now, now);
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
      "UPDATE webhook_outbox SET sends = ?, send_failures = 0, next_at = ?, slot_at = NULL WHERE seq = ?",
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
