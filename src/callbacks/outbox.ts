// The transactional outbox of task-ended events, inside the tenant's Durable Object. The event row is
// written synchronously in the same step that ends the task, so an ended task always has its event; the
// object's alarm then hands rows to the WEBHOOKS queue and deletes each only after its `send` resolved.
import { OUTBOX_FLUSH_BATCH, OUTBOX_RETRY_MS } from "../config/constants";
import type { TenantRef } from "../state/client";
import type { AlarmClock } from "../state/alarm";
import type { TaskRecord } from "../tasks/table";
import type { UpstreamTask } from "../upstream/schema";
import { taskEndedMessage, type WebhookMessage } from "./message";

const MAX_RETRY_MS = 5 * 60_000;

interface Row {
  seq: number;
  event_id: string;
  message: string;
  send_failures: number;
  [k: string]: SqlStorageValue;
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

  /** Sends the due rows to the queue. Returns when the outbox next needs a run, or null when empty. */
  async flush(now: number): Promise<number | null> {
    const due = this.sql
      .exec<Row>(
        "SELECT seq, event_id, message, send_failures FROM webhook_outbox WHERE next_at <= ? ORDER BY seq LIMIT ?",
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
        this.sql.exec("DELETE FROM webhook_outbox WHERE seq = ?", row.seq);
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

  /** Rows not yet handed to the queue (for tests and operations). */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox").one().n;
  }
}
