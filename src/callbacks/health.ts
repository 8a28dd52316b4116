// The health of a tenant's webhook endpoints (docs/callbacks.md, "Endpoint health"), in the tenant's Durable
// Object: per endpoint URL, the current run of failed attempts (how many, since when), the last success, and
// whether the endpoint is disabled — an endpoint failing continuously for WEBHOOK_DISABLE_AFTER_HOURS is, and
// its new events are then held in the outbox, never attempted, until someone re-enables it. The same row
// keeps the endpoint's send pace: the next moment a throttled endpoint (the tenant's
// `webhook.max_per_second`, or the bounded release after a re-enable) may be sent another event. Updated in
// the transaction that records each attempt; read by the outbox's flush through `EndpointGate`.
import { WEBHOOK_HEALTH_WINDOW_MS, WEBHOOK_RELEASE_PER_SECOND } from "../config/constants";
import type { TenantRef } from "../state/client";
import type { Migration } from "../state/migrations";
import { base32, randomBytes } from "../util/hmac";
import { audienceOf, eventMessage, type WebhookMessage } from "./message";

export const HEALTH_MIGRATIONS: readonly Migration[] = [
  {
    // One row per endpoint URL that has been attempted (or throttled). `pace_at`: the earliest time the next
    // paced event may be sent to it (null: never paced).
    name: "callbacks/health",
    sql: `CREATE TABLE webhook_endpoints (
       url TEXT PRIMARY KEY,
       consecutive_failures INTEGER NOT NULL DEFAULT 0,
       first_failure_at INTEGER,
       last_success_at INTEGER,
       disabled_at INTEGER,
       pace_at REAL
     );`,
  },
];

/** An endpoint as the admin API (and the portal) shows it. */
export interface EndpointHealth {
  url: string;
  state: "enabled" | "disabled";
  /** Failed attempts since the last success. */
  consecutive_failures: number;
  /** The first failure of the current run (null: the last attempt succeeded, or none failed). */
  first_failure_at: string | null;
  last_success_at: string | null;
  /** Delivered attempts / attempts over the last 24 h; null: no attempt in that time. */
  success_ratio_24h: number | null;
  disabled_at: string | null;
  /** Events waiting for the endpoint to be re-enabled. */
  held: number;
}

/** What the outbox needs of the tenant to gate its events: where they go by default, and the throttle. */
export interface EndpointPolicy {
  webhookUrl: string | null;
  maxPerSecond: number | null;
}

/** A flush's decision for one new event: send it now, at a later slot, or hold it for a disabled endpoint. */
export type Admission = { at: number } | { hold: string };

export interface EndpointGate {
  admit(m: WebhookMessage, now: number): Admission;
}

interface Row {
  url: string;
  consecutive_failures: number;
  first_failure_at: number | null;
  last_success_at: number | null;
  disabled_at: number | null;
  pace_at: number | null;
  [k: string]: SqlStorageValue;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class Endpoints {
  constructor(private readonly sql: SqlStorage) {}

  private get(url: string): Row | null {
    return this.sql.exec<Row>("SELECT * FROM webhook_endpoints WHERE url = ?", url).toArray()[0] ?? null;
  }

  /**
   * One attempt to `url` ended. A success ends the run of failures; a failure extends it, and disables the
   * endpoint once the run has lasted `disableAfterMs`. `disabledNow` is the row when this attempt disabled it.
   */
  attempted(
    url: string,
    delivered: boolean,
    at: number,
    now: number,
    disableAfterMs: number,
  ): { disabled: boolean; disabledNow: Row | null } {
    const row = delivered
      ? this.sql
          .exec<Row>(
            `INSERT INTO webhook_endpoints (url, last_success_at) VALUES (?, ?)
             ON CONFLICT (url) DO UPDATE SET consecutive_failures = 0, first_failure_at = NULL,
               last_success_at = MAX(COALESCE(last_success_at, 0), excluded.last_success_at)
             RETURNING *`,
            url,
            at,
          )
          .one()
      : this.sql
          .exec<Row>(
            `INSERT INTO webhook_endpoints (url, consecutive_failures, first_failure_at) VALUES (?, 1, ?)
             ON CONFLICT (url) DO UPDATE SET consecutive_failures = consecutive_failures + 1,
               first_failure_at = COALESCE(first_failure_at, excluded.first_failure_at)
             RETURNING *`,
            url,
            at,
          )
          .one();
    if (row.disabled_at !== null) return { disabled: true, disabledNow: null };
    if (delivered || at - row.first_failure_at! < disableAfterMs)
      return { disabled: false, disabledNow: null };
    const disabled = this.sql
      .exec<Row>("UPDATE webhook_endpoints SET disabled_at = ? WHERE url = ? RETURNING *", now, url)
      .one();
    return { disabled: true, disabledNow: disabled };
  }

  /**
   * Re-enables `url` with a fresh run (its old failures no longer count towards disabling it) and reserves
   * `count` send slots `spacingMs` apart for the events it releases; returns the first slot.
   */
  enable(url: string, now: number, count: number, spacingMs: number): number {
    const start = Math.max(now, this.get(url)?.pace_at ?? 0);
    this.sql.exec(
      `INSERT INTO webhook_endpoints (url, pace_at) VALUES (?, ?)
       ON CONFLICT (url) DO UPDATE SET disabled_at = NULL, consecutive_failures = 0, first_failure_at = NULL,
         pace_at = excluded.pace_at`,
      url,
      count > 0 ? start + count * spacingMs : null,
    );
    return start;
  }

  /** The gate for one flush: reads each endpoint once, and writes the pace of throttled ones. */
  gate(policy: EndpointPolicy): EndpointGate {
    const rows = new Map<string, Row | null>();
    return {
      admit: (m, now) => {
        const url = audienceOf(m) === "tenant" ? (m.callback_url ?? policy.webhookUrl) : null;
        if (url === null) return { at: now };
        if (!rows.has(url)) rows.set(url, this.get(url));
        const row = rows.get(url)!;
        // A test event is how a tenant checks that its endpoint is back: it is never held.
        if (row?.disabled_at != null && m.type !== "webhook.test") return { hold: url };
        const releasing = row?.pace_at != null && row.pace_at > now;
        const perSecond = policy.maxPerSecond ?? (releasing ? WEBHOOK_RELEASE_PER_SECOND : null);
        if (perSecond === null) return { at: now };
        const slot = Math.max(row?.pace_at ?? 0, now);
        const paced = this.sql
          .exec<Row>(
            `INSERT INTO webhook_endpoints (url, pace_at) VALUES (?, ?)
             ON CONFLICT (url) DO UPDATE SET pace_at = excluded.pace_at RETURNING *`,
            url,
            slot + 1000 / perSecond,
          )
          .one();
        rows.set(url, paced);
        return { at: slot };
      },
    };
  }

  /**
   * Every endpoint the tenant's events went to in the last 24 h, its webhook URL, and any disabled one or
   * one with held events: the webhook URL first, then by URL.
   */
  view(now: number, webhookUrl: string | null, held: Map<string, number>): EndpointHealth[] {
    const ratios = new Map(
      this.sql
        .exec<{ url: string; n: number; ok: number }>(
          `SELECT url, COUNT(*) AS n, SUM(outcome = 'delivered') AS ok FROM webhook_deliveries
           WHERE at >= ? AND audience = 'tenant' AND attempt IS NOT NULL AND url IS NOT NULL GROUP BY url`,
          now - WEBHOOK_HEALTH_WINDOW_MS,
        )
        .toArray()
        .map((r) => [r.url, r.ok / r.n]),
    );
    const rows = new Map(
      this.sql
        .exec<Row>("SELECT * FROM webhook_endpoints")
        .toArray()
        .map((r) => [r.url, r]),
    );
    const urls = new Set<string>([...ratios.keys(), ...held.keys()]);
    for (const r of rows.values()) if (r.disabled_at !== null) urls.add(r.url);
    const others = [...urls].filter((u) => u !== webhookUrl).sort();
    return [...(webhookUrl ? [webhookUrl] : []), ...others].map((url) => {
      const r = rows.get(url);
      return {
        url,
        state: r?.disabled_at != null ? "disabled" : "enabled",
        consecutive_failures: r?.consecutive_failures ?? 0,
        first_failure_at: iso(r?.first_failure_at ?? null),
        last_success_at: iso(r?.last_success_at ?? null),
        success_ratio_24h: ratios.get(url) ?? null,
        disabled_at: iso(r?.disabled_at ?? null),
        held: held.get(url) ?? 0,
      };
    });
  }
}

/** `webhook.test`: a tenant's event like any other, signed, sent and recorded, saying only that it is a test. */
export function testEvent(tenant: TenantRef, at: number): WebhookMessage {
  return eventMessage(
    tenant,
    { id: `msg_test_${base32(randomBytes(15))}`, type: "webhook.test", audience: "tenant" },
    { tenant_id: tenant.id, message: "A test event from reelgate: your endpoint receives and verifies it." },
    at,
  );
}

/** `webhook.endpoint_disabled`: the operator hears that one of a tenant's endpoints was switched off. */
export function endpointDisabled(
  tenant: TenantRef,
  row: { url: string; consecutive_failures: number; first_failure_at: number | null },
  at: number,
): WebhookMessage {
  return eventMessage(
    tenant,
    {
      id: `msg_disabled_${base32(randomBytes(15))}`,
      type: "webhook.endpoint_disabled",
      audience: "operator",
    },
    {
      tenant_id: tenant.id,
      url: row.url,
      disabled_at: new Date(at).toISOString(),
      failing_since: iso(row.first_failure_at),
      consecutive_failures: row.consecutive_failures,
    },
    at,
  );
}
