// Uploads in the quota views: GET /v1/usage shows each scope's files and monthly bytes next to its other
// limits; the operator's ledger shows the month's uploads per tenant and user.
import type { QuotaLimits } from "../tenants/schema";
import { monthOf, nextMonthStart } from "../util/month";
import type { UploadUsage } from "./book";

export function uploadsView(limits: QuotaLimits, usage: UploadUsage, now: number): Record<string, unknown> {
  const files = limits.max_files ?? null;
  const bytes = limits.monthly_upload_bytes ?? null;
  return {
    max_files: {
      limit: files,
      used: usage.files,
      remaining: files === null ? null : Math.max(0, files - usage.files),
    },
    monthly_upload_bytes: {
      limit: bytes,
      month: monthOf(now),
      used: usage.bytes,
      remaining: bytes === null ? null : Math.max(0, bytes - usage.bytes),
      reset_at: new Date(nextMonthStart(now)).toISOString(),
    },
  };
}

export function uploadTotals(rows: readonly { scope: string; files: number; bytes: number }[]) {
  return rows.map((r) => ({
    scope: r.scope === "tenant" ? "tenant" : "user",
    ...(r.scope === "tenant" ? {} : { sub: r.scope.slice("user:".length) }),
    files: r.files,
    bytes: r.bytes,
  }));
}
