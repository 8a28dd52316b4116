// Drives a tenant object's own alarm the way the platform does, at a time the test chooses: `age` moves the
// object's task history into the past (as if that much time had passed since), then `runAlarm` runs the
// armed alarm now. The sweeper reads only the stored times and the clock, so this is time passing for it.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { objectOf } from "./objects";

type Column = "created_at" | "updated_at" | "ended_at" | "kv_synced_at";

/** Moves the given task columns of every task of the tenant (default: all three times) `ms` into the past. */
export async function age(
  tenantId: string,
  ms: number,
  columns: Column[] = ["created_at", "updated_at", "ended_at"],
): Promise<void> {
  await runInDurableObject(await objectOf(tenantId), (instance, state: DurableObjectState) => {
    const set = columns.map((c) => `${c} = ${c} - ?`).join(", ");
    state.storage.sql.exec(`UPDATE tasks SET ${set}`, ...columns.map(() => ms));
    // The rate windows the object keeps in memory were read from the times just moved (src/quota/recent.ts).
    (instance as unknown as { quota: { forgetWindows(): void } }).quota.forgetWindows();
  });
}

/** Runs the tenant object's armed alarm now; false when none was armed. */
export async function runAlarm(tenantId: string): Promise<boolean> {
  return runDurableObjectAlarm(await objectOf(tenantId));
}

/** The time the tenant object's alarm is armed for, or null (instantiates the object to ask). */
export async function armedAlarm(tenantId: string): Promise<number | null> {
  return runInDurableObject(await objectOf(tenantId), (_o, state: DurableObjectState) =>
    state.storage.getAlarm(),
  );
}
