// After a task ends, the tenant's Durable Object mirrors it to KV: the ledger entry an operator can list
// (`ledger:{tenant}:{YYYY-MM}:{row}`, written once per task, so KV's one-write-per-second-per-key limit
// is never near). Runs from the object's alarm, never inside the step that ended the task; `kv_synced_at`
// marks what is done. The object is this key range's only writer (and deletes it when the tenant is deleted).
import { KV_SYNC_BATCH, LEDGER_KV_TTL_S } from "../config/constants";
import type { TaskRecord, TaskTable } from "../tasks/table";
import { monthOf } from "../util/month";

export function ledgerKey(tenantId: string, month: string, taskId: string): string {
  return `ledger:${tenantId}:${month}:${taskId}`;
}

/** The operator's view of one task's credits (KV ledger value and admin usage rows alike). */
export interface LedgerEntry {
  task_id: string;
  sub: string | null;
  status: string;
  model: string;
  estimate: number;
  reserved: number;
  charged: number | null;
  created_at: string;
  ended_at: string | null;
}

export function ledgerEntry(r: TaskRecord): LedgerEntry {
  return {
    // Tasks the upstream never accepted have no public id; the row key stands in.
    task_id: r.publicId ?? r.id,
    sub: r.sub,
    status: r.state,
    model: r.model,
    estimate: r.estimate,
    reserved: r.reserved,
    charged: r.charged,
    created_at: new Date(r.createdAt).toISOString(),
    ended_at: r.endedAt === null ? null : new Date(r.endedAt).toISOString(),
  };
}

async function syncOne(kv: KVNamespace, tenantId: string, r: TaskRecord): Promise<void> {
  if (r.state === "aborted") return;
  await kv.put(ledgerKey(tenantId, monthOf(r.createdAt), r.id), JSON.stringify(ledgerEntry(r)), {
    expirationTtl: LEDGER_KV_TTL_S,
    metadata: { sub: r.sub?.slice(0, 256) ?? null, status: r.state, charged: r.charged },
  });
}

/**
 * Mirrors up to one batch of ended tasks. Returns when it wants to run again: now when more are waiting,
 * in 30 s after a failure, null when all is mirrored.
 */
export async function syncEndedTasks(
  kv: KVNamespace,
  tasks: TaskTable,
  tenantId: string,
  now: number,
): Promise<number | null> {
  const batch = tasks.unsynced(KV_SYNC_BATCH);
  const results = await Promise.allSettled(batch.map((r) => syncOne(kv, tenantId, r)));
  let failed = 0;
  results.forEach((result, i) => {
    if (result.status === "fulfilled") tasks.markSynced(batch[i]!.id, now);
    else {
      failed++;
      console.error(
        JSON.stringify({
          level: "error",
          event: "kv_sync_failed",
          tenant_id: tenantId,
          error: String(result.reason),
        }),
      );
    }
  });
  if (failed > 0) return now + 30_000;
  return batch.length === KV_SYNC_BATCH ? now : null;
}
