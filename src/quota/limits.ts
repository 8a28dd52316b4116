// A tenant's limits as admission reads them: the tenant-wide `quotas` and the per-user `user_quotas`.
// Admission itself always happens in the tenant's Durable Object (src/quota/admission.ts); the edge only
// refuses early what the object already refused (src/quota/edge-refusals.ts).
import type { Tenant } from "../tenants/schema";
import type { AdmitRequest } from "./admission";

export type Limits = AdmitRequest["limits"];

export function limitsOf(tenant: Tenant): Limits {
  return { tenant: tenant.quotas ?? {}, user: tenant.user_quotas ?? {} };
}
