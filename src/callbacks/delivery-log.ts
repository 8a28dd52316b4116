// The record of webhook delivery attempts, in the tenant's Durable Object: one row per attempt (and one per
// dead letter), kept DELIVERY_RETENTION_MS, listed newest first. Delivery ids name their tenant
// (`dlv_<random>.<tenant_id>`), so `POST /admin/deliveries/{id}/redeliver` finds the right object; the
// Registry's own records (the operator's events about no tenant) end in `._registry`, which no tenant id
// can (a tenant id starts with a letter or digit).
import { DELIVERY_RETENTION_MS } from "../config/constants";
import { TENANT_ID_PATTERN } from "../tenants/schema";
import { base32, randomBytes } from "../util/hmac";
import type { EventType } from "./message";

/**
 * `delivered` 2xx · `retrying` failed, another attempt is scheduled · `failed` permanent failure, or the
 * last scheduled attempt failed (the message then goes to the dead-letter queue) · `dead_lettered` the
 * dead-letter queue received it: no further attempt unless an operator redelivers · `held` failed while its
 * endpoint is disabled: no retry; the event waits in the outbox until the endpoint is re-enabled.
 */
export type DeliveryOutcome = "delivered" | "retrying" | "failed" | "dead_lettered" | "held";

export interface DeliveryEntry {
  eventId: string;
  /** Null for an event about no task. */
  taskId: string | null;
  /** The event's type and who it went to; absent: a task's end, to the tenant. */
  type?: EventType;
  audience?: "tenant" | "operator";
  /** 1-based attempt number of this message; null for a dead-letter record. */
  attempt: number | null;
  at: number;
  url: string | null;
  statusCode: number | null;
  latencyMs: number | null;
  outcome: DeliveryOutcome;
  error: string | null;
  nextAttemptAt: number | null;
  redelivery: boolean;
}

/** A delivery record as the admin API shows it. */
export interface DeliveryView {
  id: string;
  event_id: string;
  task_id: string | null;
  type: EventType;
  audience: "tenant" | "operator";
  attempt: number | null;
  attempted_at: string;
  url: string | null;
  status_code: number | null;
  latency_ms: number | null;
  outcome: DeliveryOutcome;
  error: string | null;
  next_attempt_at: string | null;
  redelivery: boolean;
}

export interface DeliveryPage {
  data: DeliveryView[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  cursor: string | null;
}

const DELIVERY_ID = /^dlv_([a-z2-7]{24})\.(.+)$/;

/** The owner name of the Registry's delivery records: not a tenant id (TENANT_ID_PATTERN starts [a-z0-9]). */
export const REGISTRY_DELIVERIES = "_registry";

/** True for a delivery id of the Registry's own records. */
export function isRegistryDelivery(id: string): boolean {
  return DELIVERY_ID.exec(id)?.[2] === REGISTRY_DELIVERIES;
}

/** The tenant a delivery id belongs to, or null when it is not a tenant's delivery id. */
export function tenantOfDelivery(id: string): string | null {
  const m = DELIVERY_ID.exec(id);
  return m && TENANT_ID_PATTERN.test(m[2]!) ? m[2]! : null;
}

type Row = Record<string, SqlStorageValue>;

function toView(r: Row): DeliveryView {
  const iso = (ms: SqlStorageValue | undefined) => (ms == null ? null : new Date(ms as number).toISOString());
  return {
    id: r.id as string,
    event_id: r.event_id as string,
    // The column predates events about no task: those are stored as ''.
    task_id: r.task_id === "" ? null : (r.task_id as string),
    type: r.type as EventType,
    audience: r.audience as "tenant" | "operator",
    attempt: r.attempt as number | null,
    attempted_at: iso(r.at)!,
    url: r.url as string | null,
    status_code: r.status_code as number | null,
    latency_ms: r.latency_ms as number | null,
    outcome: r.outcome as DeliveryOutcome,
    error: r.error as string | null,
    next_attempt_at: iso(r.next_attempt_at),
    redelivery: r.redelivery === 1,
  };
}

export class DeliveryLog {
  constructor(
    private readonly sql: SqlStorage,
    /** A tenant id, or REGISTRY_DELIVERIES: the suffix of every delivery id this log makes. */
    private readonly tenantId: string,
  ) {}

  record(entry: DeliveryEntry, now: number): DeliveryView {
    this.sql.exec("DELETE FROM webhook_deliveries WHERE at < ?", now - DELIVERY_RETENTION_MS);
    const id = `dlv_${base32(randomBytes(15))}.${this.tenantId}`;
    const row = this.sql
      .exec<Row>(
        `INSERT INTO webhook_deliveries (id, event_id, task_id, type, audience, attempt, at, url, status_code,
           latency_ms, outcome, error, next_attempt_at, redelivery)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        id,
        entry.eventId,
        entry.taskId ?? "",
        entry.type ?? "task.ended",
        entry.audience ?? "tenant",
        entry.attempt,
        entry.at,
        entry.url,
        entry.statusCode,
        entry.latencyMs,
        entry.outcome,
        entry.error,
        entry.nextAttemptAt,
        entry.redelivery ? 1 : 0,
      )
      .one();
    return toView(row);
  }

  /** Newest first; `cursor` continues after the last record of the previous page. */
  list(
    now: number,
    limit: number,
    cursor?: number,
    audience: "tenant" | "operator" = "tenant",
  ): DeliveryPage {
    const rows = this.sql
      .exec<Row>(
        `SELECT * FROM webhook_deliveries WHERE at >= ? AND seq < ? AND audience = ? ORDER BY seq DESC LIMIT ?`,
        now - DELIVERY_RETENTION_MS,
        cursor ?? Number.MAX_SAFE_INTEGER,
        audience,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return { data: page.map(toView), cursor: more ? String(page[page.length - 1]!.seq) : null };
  }

  /**
   * The tenant's events whose last attempt since `since` ended `failed` or `dead_lettered` (a later
   * `delivered` record clears it), each once, oldest first.
   */
  failedSince(since: number): { eventId: string; taskId: string | null }[] {
    const rows = this.sql
      .exec<Row>(
        `SELECT event_id, task_id, outcome FROM webhook_deliveries
         WHERE at >= ? AND audience = 'tenant' AND outcome IN ('delivered', 'failed', 'dead_lettered')
         ORDER BY seq`,
        since,
      )
      .toArray();
    const last = new Map<string, Row>();
    // Each event's last record, in the order of its first (a Map keeps a key's first position).
    for (const r of rows) last.set(r.event_id as string, r);
    return [...last.values()]
      .filter((r) => r.outcome !== "delivered")
      .map((r) => ({
        eventId: r.event_id as string,
        taskId: r.task_id === "" ? null : (r.task_id as string),
      }));
  }

  /** The event and task a (not yet expired) delivery record belongs to. */
  find(id: string, now: number): { eventId: string; taskId: string | null } | null {
    const row = this.sql
      .exec<Row>(
        "SELECT event_id, task_id FROM webhook_deliveries WHERE id = ? AND at >= ?",
        id,
        now - DELIVERY_RETENTION_MS,
      )
      .toArray()[0];
    return row
      ? { eventId: row.event_id as string, taskId: row.task_id === "" ? null : (row.task_id as string) }
      : null;
  }
}
