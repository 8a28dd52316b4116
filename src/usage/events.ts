// The money loop's webhook events (docs/quotas.md): `quota.threshold` to the tenant when a scope reaches one
// of its alert thresholds; to the operator, `tenant.quota_exhausted` when the tenant reaches 100 % and
// `usage.settled` for every task that settles, with the task's id as its webhook-id so a billing pipeline
// (a Stripe meter, say) consumes each exactly once however often it is delivered. Built inside the object's
// step that caused them (src/tenant-object), written to its outbox there.
import { eventMessage, type WebhookMessage } from "../callbacks/message";
import { fromUnits } from "../quota/arithmetic";
import type { ThresholdReached } from "../quota/counters";
import { ledgerEntry } from "../quota/kv-sync";
import type { TenantRef } from "../state/client";
import type { TaskRecord } from "../tasks/table";
import { monthOf } from "../util/month";

/** `quota.threshold` (the tenant's), or `tenant.quota_exhausted` (the operator's: the tenant at 100 %). */
export function thresholdMessage(tenant: TenantRef, r: ThresholdReached, at: number): WebhookMessage {
  const used = fromUnits(r.usedUnits);
  const limit = fromUnits(r.limitUnits);
  if (r.audience === "operator")
    return eventMessage(
      tenant,
      { id: r.eventId, type: "tenant.quota_exhausted", audience: "operator" },
      { tenant_id: tenant.id, month: r.month, used, limit },
      at,
    );
  return eventMessage(
    tenant,
    { id: r.eventId, type: "quota.threshold", audience: "tenant" },
    {
      scope: r.scope,
      ...(r.scope === "user" ? { sub: r.sub } : {}),
      threshold: r.threshold,
      month: r.month,
      used,
      limit,
    },
    at,
  );
}

/** `usage.settled`: what one ended task cost, as the operator's ledger records it; webhook-id = the task id. */
export function usageSettled(tenant: TenantRef, record: TaskRecord, at: number): WebhookMessage {
  const entry = ledgerEntry(record);
  return eventMessage(
    tenant,
    { id: entry.task_id, type: "usage.settled", audience: "operator", taskId: entry.task_id },
    { tenant_id: tenant.id, month: monthOf(record.createdAt), ...entry },
    at,
  );
}
