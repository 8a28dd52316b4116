// Upload quotas, pure: `max_files` (live files at once) and `monthly_upload_bytes`, per tenant and per
// user, decided from counts passed in, and their refusals in the same shape as the other quota refusals
// (src/quota/refusal.ts): `error.details` names the scope, the limit and the figures a client shows.
import { R2_DEFAULT_MAX_FILES } from "../config/constants";
import { ApiError } from "../http/errors";
import type { QuotaLimits, Tenant } from "../tenants/schema";
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

/**
 * The upload limits in force. With FILES_BACKEND=r2 a tenant that sets no `max_files` keeps EvoLink's default
 * 2000 files, so the bucket is bounded and GET /api/v1/files/quota always has a true number; with EvoLink's
 * backend its own account quota bounds the uploads (and the quota answer asks it).
 */
export function uploadLimits(
  tenant: Pick<Tenant, "quotas" | "user_quotas">,
  backend: "evolink" | "r2",
): { tenant: QuotaLimits; user: QuotaLimits } {
  const quotas = tenant.quotas ?? {};
  const defaulted = backend === "r2" && quotas.max_files === undefined;
  return {
    tenant: defaulted ? { ...quotas, max_files: R2_DEFAULT_MAX_FILES } : quotas,
    user: tenant.user_quotas ?? {},
  };
}

/** One `max_files` bound of the quota answer: a scope's (set by the tenant or defaulted), or the backend's. */
export interface FilesBound {
  max: number | undefined;
  used: number;
  /** What `quota_reason` says when this bound is the tightest; null: a default, not set by the tenant. */
  reason: string | null;
}

/**
 * GET /api/v1/files/quota's `data`: the bound that leaves the least room (the caller's own first on a tie,
 * the one it can act on), with `remain_files` what may truly still be uploaded. `backendLeft` is the slots
 * left in EvoLink's account (FILES_BACKEND=evolink), shared by every tenant: only its room is shown, never its
 * count, so `max_files` is then the caller's files plus that room.
 */
export function fileQuotaView(
  scopes: readonly FilesBound[],
  backendLeft: number | null,
  userGroup: "tenant" | "user",
): Record<string, unknown> {
  const own = scopes[0];
  if (!own) throw new Error("fileQuotaView: no scope");
  const limited = scopes
    .filter((s): s is FilesBound & { max: number } => s.max !== undefined)
    .map((s) => ({ ...s, left: Math.max(0, s.max - s.used) }));
  const tightest = limited.sort((a, b) => a.left - b.left)[0];
  if (backendLeft !== null && (!tightest || backendLeft < tightest.left))
    return {
      user_group: userGroup,
      used_files: own.used,
      max_files: own.used + backendLeft,
      remain_files: backendLeft,
      is_custom: false,
      quota_reason: "",
    };
  if (!tightest) throw new Error("fileQuotaView: no bound on uploads");
  return {
    user_group: userGroup,
    used_files: tightest.used,
    max_files: tightest.max,
    remain_files: tightest.left,
    is_custom: tightest.reason !== null,
    quota_reason: tightest.reason ?? "",
  };
}

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
