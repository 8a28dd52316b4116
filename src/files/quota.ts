// Upload quotas, pure: `max_files` (live files at once) and `monthly_upload_bytes`, per tenant and per
// user, decided from counts passed in, and their refusals in the same shape as the other quota refusals
// (src/quota/refusal.ts): `error.details` names the scope, the limit and the figures a client shows.
import { ApiError } from "../http/errors";
import type { QuotaLimits } from "../tenants/schema";
import { nextMonthStart } from "../util/month";

export interface UploadScope {
  scope: "tenant" | "user";
  limits: QuotaLimits;
  /** Live files now (pending uploads included). */
  files: number;
  /** Bytes uploaded this month. */
  bytes: number;
}

export type UploadRefusal =
  | { scope: "tenant" | "user"; limit: "max_files"; max: number; used: number }
  | { scope: "tenant" | "user"; limit: "monthly_upload_bytes"; max: number; used: number; needed: number };

/** The monthly byte limit that leaves the least room, with its figures. */
export interface ByteBudget {
  scope: "tenant" | "user";
  max: number;
  used: number;
}

/**
 * The first limit a new upload of `declaredBytes` (0 when unknown) would break; or, when none, the byte
 * budget that bounds this upload (null: no monthly limit applies).
 */
export function checkUpload(
  scopes: readonly UploadScope[],
  declaredBytes: number,
): { refusal: UploadRefusal } | { refusal: null; budget: ByteBudget | null } {
  let budget: ByteBudget | null = null;
  for (const s of scopes) {
    const maxFiles = s.limits.max_files;
    if (maxFiles !== undefined && s.files >= maxFiles)
      return { refusal: { scope: s.scope, limit: "max_files", max: maxFiles, used: s.files } };
    const maxBytes = s.limits.monthly_upload_bytes;
    if (maxBytes === undefined) continue;
    const left = Math.max(0, maxBytes - s.bytes);
    if (left === 0 || declaredBytes > left)
      return {
        refusal: {
          scope: s.scope,
          limit: "monthly_upload_bytes",
          max: maxBytes,
          used: s.bytes,
          needed: declaredBytes,
        },
      };
    if (budget === null || left < budget.max - budget.used)
      budget = { scope: s.scope, max: maxBytes, used: s.bytes };
  }
  return { refusal: null, budget };
}

const WHO = { tenant: "the tenant", user: "this user" } as const;

export function uploadRefusalError(refusal: UploadRefusal, now: number): ApiError {
  switch (refusal.limit) {
    case "max_files":
      return new ApiError(
        "insufficient_quota",
        `File quota exhausted: ${WHO[refusal.scope]} may keep ${refusal.max} files at once; delete one or wait for one to expire`,
        {
          details: {
            details: {
              scope: refusal.scope,
              limit: refusal.limit,
              max: refusal.max,
              used: refusal.used,
              remaining: 0,
            },
          },
        },
      );
    case "monthly_upload_bytes": {
      const remaining = Math.max(0, refusal.max - refusal.used);
      return new ApiError(
        "insufficient_quota",
        `Upload quota exhausted: ${WHO[refusal.scope]} has ${remaining} of ${refusal.max} bytes left this month`,
        {
          details: {
            details: {
              scope: refusal.scope,
              limit: refusal.limit,
              total_limit_bytes: refusal.max,
              used_bytes: refusal.used,
              remaining_bytes: remaining,
              ...(refusal.needed > 0 ? { requested_bytes: refusal.needed } : {}),
              reset_at: new Date(nextMonthStart(now)).toISOString(),
              reset_timezone: "UTC",
            },
          },
        },
      );
    }
  }
}
