// Ending a tenant's incarnation inside its Durable Object (DELETE /admin/tenants/{tenant_id}): refuse while tasks
// are in flight unless forced, then wipe the object's storage (tasks, outbox, deliveries, ledgers, alarm)
// and the KV documents it wrote. The Worker asks this first and deletes the Registry record after.
import { remigrate } from "./migrations";

/** KV keys listed per prefix per call: the caller calls again while `kvComplete` is false (bounded). */
export const RETIRE_KV_BATCH = 500;

export interface RetireHost {
  tenantId: string;
  storage: DurableObjectStorage;
  kv: KVNamespace;
}

export type RetireResult =
  { retired: false; open: number } | { retired: true; open: number; kvDeleted: number; kvComplete: boolean };

/** Tasks not ended: `creating` (upstream call in flight) or running upstream. */
export function openTasks(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE ended_at IS NULL").one().n;
}

/**
 * The KV documents the object writes, by prefix (docs/storage-schema.md): the per-task ledger mirror.
 * Ids never contain ':', so `ledger:acme:` cannot match tenant `acme2`.
 */
export function kvPrefixes(tenantId: string): string[] {
  return [`ledger:${tenantId}:`];
}

async function deleteKvDocuments(
  kv: KVNamespace,
  tenantId: string,
): Promise<{ n: number; complete: boolean }> {
  let n = 0;
  for (const prefix of kvPrefixes(tenantId)) {
    const page = await kv.list({ prefix, limit: RETIRE_KV_BATCH });
    for (let i = 0; i < page.keys.length; i += 50)
      await Promise.all(page.keys.slice(i, i + 50).map((k) => kv.delete(k.name)));
    n += page.keys.length;
    if (!page.list_complete) return { n, complete: false };
  }
  return { n, complete: true };
}

/**
 * Refuses (`retired: false`) while tasks are in flight and `force` is false. Otherwise wipes storage and
 * rebuilds the empty schema in one step (no other request runs while storage operations are awaited),
 * then deletes up to RETIRE_KV_BATCH KV documents. Safe to call again: a retired object stays empty.
 */
export async function retire(host: RetireHost, force: boolean): Promise<RetireResult> {
  if (!host.tenantId) throw new Error("retire: the object does not know its tenant");
  const sql = host.storage.sql;
  const open = openTasks(sql);
  if (open > 0 && !force) return { retired: false, open };
  await host.storage.deleteAlarm();
  await host.storage.deleteAll();
  remigrate(sql);
  const kv = await deleteKvDocuments(host.kv, host.tenantId);
  return { retired: true, open, kvDeleted: kv.n, kvComplete: kv.complete };
}
