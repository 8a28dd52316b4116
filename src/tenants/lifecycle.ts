// The Worker's side of ending a tenant's incarnation: the tenant's object retires in batches (its storage
// at once, its KV documents a batch per call), bounded so a huge ledger cannot hold a DELETE for ever.
import type { RetireResult } from "../state/retire";

/** Calls after the first while KV documents remain; what is left then expires by its own TTL. */
const RETIRE_MAX_ROUNDS = 20;

interface Retirable {
  retire(force: boolean): Promise<RetireResult>;
}

export type Retired =
  { retired: false; open: number } | { retired: true; open: number; kvDeleted: number; kvComplete: boolean };

export async function retireObject(state: Retirable, force: boolean): Promise<Retired> {
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
