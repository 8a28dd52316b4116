// Ending a tenant's incarnation (DELETE /admin/tenants/{tenant_id}), as plain orchestration over the two objects
// involved and the tenant's R2 keys: the tenant's own object retires first (busy check, then its storage and
// KV documents go), its uploads and kept results are deleted from R2 (src/state/buckets.ts), the Registry
// then drops the record, and the object and the keys are wiped once more for work that raced the deletion.
// The R2 pages are bounded per call and run while the record still exists: a call that runs out of pages,
// or is cut off, leaves the tenant in place, and the next DELETE finds it and carries on.
import type { WipeResult } from "../state/buckets";
import type { TenantRef } from "../state/client";
import type { RetireResult } from "../state/retire";
import type { RegistryApi } from "./registry-client";
import type { Tenant } from "./schema";

/** Calls after the first while KV documents remain; what is left then expires by its own TTL. */
const RETIRE_MAX_ROUNDS = 20;

interface Retirable {
  retire(force: boolean): Promise<RetireResult>;
}

export interface EndDeps {
  registry: Pick<RegistryApi, "getTenant" | "deleteTenant">;
  /** The object of one incarnation of the tenant (src/state/client.ts). */
  object: (tenant: TenantRef) => Retirable;
  /** Drops the isolate's cached copies of the tenant (src/tenants/lookup.ts). */
  forget: (tenant: Tenant) => void;
  /** Deletes a bounded number of the tenant id's R2 keys, uploads and results (src/state/buckets.ts). */
  wipeBuckets: (tenantId: string) => Promise<WipeResult>;
}

export type EndResult =
  | { ended: false; reason: "not_found" }
  | { ended: false; reason: "busy"; open: number }
  /** R2 keys remain after this call's pages (`deleted` of them went): the record stays, call again. */
  | { ended: false; reason: "wiping"; deleted: number }
  | {
      ended: true;
      incarnation: string;
      /** Tasks in flight dropped by a forced delete. */
      dropped: number;
      /** Tasks created while the delete ran, wiped by the second pass. */
      late: number;
      kvDeleted: number;
      kvComplete: boolean;
      /** R2 keys deleted by this call. */
      r2Deleted: number;
      /** False only when keys written after the record went outlived the last pass (logged). */
      r2Complete: boolean;
    };

/** Retires the object: its first answer, then more calls while KV documents remain (bounded). */
async function retireAll(state: Retirable, force: boolean): Promise<RetireResult> {
  const first = await state.retire(force);
  if (!first.retired) return first;
  let { kvDeleted, kvComplete } = first;
  for (let round = 0; !kvComplete && round < RETIRE_MAX_ROUNDS; round++) {
    const next = await state.retire(true);
    if (!next.retired) break;
    kvDeleted += next.kvDeleted;
    kvComplete = next.kvComplete;
  }
  return { retired: true, open: first.open, kvDeleted, kvComplete };
}

export async function endIncarnation(deps: EndDeps, id: string, force: boolean): Promise<EndResult> {
  const tenant = await deps.registry.getTenant(id);
  if (!tenant) return { ended: false, reason: "not_found" };
  const object = deps.object(tenant);
  const retired = await retireAll(object, force);
  if (!retired.retired) return { ended: false, reason: "busy", open: retired.open };
  const wiped = await deps.wipeBuckets(id);
  if (!wiped.complete) return { ended: false, reason: "wiping", deleted: wiped.deleted };
  // The incarnation guards against deleting a tenant re-created since it was read.
  const deleted = await deps.registry.deleteTenant(id, tenant.incarnation);
  if (!deleted.ok) return { ended: false, reason: "not_found" };
  deps.forget(tenant);
  // A request authenticated before the record went may have created a task, or stored an upload, since the
  // wipe. (An upload whose slot the object no longer has deletes its own bytes: src/files/upload.ts.)
  const late = await retireAll(object, true);
  const lateWiped = await deps.wipeBuckets(id);
  return {
    ended: true,
    incarnation: tenant.incarnation,
    dropped: retired.open,
    late: late.open,
    kvDeleted: retired.kvDeleted + (late.retired ? late.kvDeleted : 0),
    kvComplete: late.retired && late.kvComplete,
    r2Deleted: wiped.deleted + lateWiped.deleted,
    r2Complete: lateWiped.complete,
  };
}
