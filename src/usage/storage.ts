// Kept results in the usage views: the bytes a tenant and its users keep in the operator's bucket now, and the
// month's byte-days (stored bytes integrated over time, per 24 h) the operator bills storage from. The figures
// come from the tenant object (src/results/table.ts); the shaping here is pure.
import type { StorageUsage } from "../results/table";
import type { QuotaLimits } from "../tenants/schema";
import { monthOf, nextMonthStart } from "../util/month";

/** One scope's figures as the object reports them: `""` the tenant, `u:<sub>` a user. */
export type ScopeStorage = StorageUsage & { scope: string };

/**
 * Whole byte-days: one is a byte kept for a day, so rounding moves a bill by less than a millionth of a
 * GB-day, and a whole number sums and exports without float noise.
 */
export const byteDays = (n: number): number => Math.round(n);

/** GET /v1/usage: the stored bytes against `result_storage_bytes`, and the month's byte-days so far. */
export function resultsView(limits: QuotaLimits, usage: StorageUsage, now: number): Record<string, unknown> {
  const limit = limits.result_storage_bytes ?? null;
  return {
    result_storage_bytes: {
      limit,
      used: usage.bytes,
      remaining: limit === null ? null : Math.max(0, limit - usage.bytes),
    },
    result_byte_days: {
      month: monthOf(now),
      used: byteDays(usage.byteDays),
      reset_at: new Date(nextMonthStart(now)).toISOString(),
    },
  };
}

/** The tenant first, then its users by sub: what the ledger and the console list. */
function ordered(rows: readonly ScopeStorage[]): ScopeStorage[] {
  return [...rows].sort((a, b) => (a.scope === b.scope ? 0 : a.scope < b.scope ? -1 : 1));
}

const subOf = (scope: string): string => scope.slice("u:".length);

/** The operator's ledger: every scope that kept results in the month, as `uploads` lists them. */
export function resultStorageTotals(rows: readonly ScopeStorage[]) {
  return ordered(rows).map((r) => ({
    scope: r.scope === "" ? "tenant" : "user",
    ...(r.scope === "" ? {} : { sub: subOf(r.scope) }),
    bytes: r.bytes,
    byte_days: byteDays(r.byteDays),
  }));
}

/** The console's usage page: the tenant's figures against its limit, and each user's, most byte-days first. */
export function resultStorageView(rows: readonly ScopeStorage[], limit: number | null) {
  const tenant = rows.find((r) => r.scope === "");
  return {
    bytes: tenant?.bytes ?? 0,
    byte_days: byteDays(tenant?.byteDays ?? 0),
    limit,
    users: ordered(rows)
      .filter((r) => r.scope !== "")
      .map((r) => ({ sub: subOf(r.scope), bytes: r.bytes, byte_days: byteDays(r.byteDays) }))
      .sort((a, b) => b.byte_days - a.byte_days || b.bytes - a.bytes),
  };
}
