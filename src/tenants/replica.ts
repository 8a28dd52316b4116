// Writes the KV read replica of the Registry's tenant records: `tenant:{id}` (the record, carrying its
// version, also in the KV metadata) and `issuer:{issuer}` (the index). The Registry runs these one job at a
// time, always from its current SQLite row, so KV receives a tenant's versions in order and never an
// older record after a newer one.
import type { RegistryTable, ReplicaJob } from "./registry-table";
import { issuerKey, tenantKey, tenantMetadata } from "./lookup";

/** Jobs per pass; a pass that stops here leaves the rest to the next pass or the alarm. */
const PASS_MAX_JOBS = 200;

async function apply(kv: KVNamespace, store: RegistryTable, job: ReplicaJob): Promise<void> {
  const { record } = job;
  if (record) {
    // Record first, then the index: a reader trusts the record, not the index (src/tenants/lookup.ts).
    await kv.put(tenantKey(record.id), JSON.stringify(record), { metadata: tenantMetadata(record) });
    await kv.put(issuerKey(record.auth.issuer), record.id);
  } else {
    await kv.delete(tenantKey(job.id));
  }
  const stale = job.replicaIssuer;
  // An issuer this tenant left may already be claimed by another tenant, whose own job writes its key:
  // checked just before the delete, and every job runs after the previous one, so no claim is lost.
  if (stale && stale !== record?.auth.issuer && store.issuerOwner(stale) === null)
    await kv.delete(issuerKey(stale));
}

/**
 * Replicates every tenant whose KV documents lag its record. Returns true when nothing is left; throws
 * (after marking what was done) when a KV write fails.
 */
export async function replicatePass(kv: KVNamespace, store: RegistryTable): Promise<boolean> {
  for (let i = 0; i < PASS_MAX_JOBS; i++) {
    const job = store.nextReplicaJob();
    if (!job) return true;
    await apply(kv, store, job);
    store.replicated(job);
  }
  return store.nextReplicaJob() === null;
}
