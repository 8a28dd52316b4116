// Ending a tenant's incarnation (DELETE /admin/tenants/{tenant_id}), as plain orchestration over the two objects
// involved: the tenant's own object retires first (busy check, then its storage and KV documents go), the
// Registry then drops the record, and the object is wiped once more for a task created in between.
import type { TenantRef } from "../state/client";
import type { RetireResult } from "../state/retire";
import type { RegistryApi } from "./registry-client";

/** Calls after the first while KV documents remain; what is left then expires by its own TTL. */
const RETIRE_MAX_ROUNDS = 20;

interface Retirable {
  retire(force: boolean): Promise<RetireResult>;
}

export interface EndDeps {
  registry: Pick<RegistryApi, "getTenant" | "deleteTenant">;
  /** The object of one incarnation of the tenant (src/state/client.ts). */
  object: (tenant: TenantRef) => Retirable;
  /** Drops the isolate's cached copy of the tenant (src/tenants/lookup.ts). */
  forget: (issuer: string) => void;
}

export type EndResult =
  | { ended: false; reason: "not_found" }
  | { ended: false; reason: "busy"; open: number }
  | {
      ended: true;
      incarnation: string;
      /** Tasks in flight dropped by a forced delete. */
      dropped: number;
      /** Tasks created while the delete ran, wiped by the second pass. */
      late: number;
      kvDeleted: number;
      kvComplete: boolean;
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
  // The incarnation guards against deleting a tenant re-created since it was read.
  const deleted = await deps.registry.deleteTenant(id, tenant.incarnation);
  if (!deleted.ok) return { ended: false, reason: "not_found" };
  deps.forget(tenant.auth.issuer);
  // A request authenticated before the record went may have created a task since the wipe.
  const late = await retireAll(object, true);
  return {
    ended: true,
    incarnation: tenant.incarnation,
    dropped: retired.open,
    late: late.open,
    kvDeleted: retired.kvDeleted + (late.retired ? late.kvDeleted : 0),
    kvComplete: late.retired && late.kvComplete,
  };
}
